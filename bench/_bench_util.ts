/** Shared pieces of the benchmarks. */

/** Samples a process's peak resident set (VmHWM, which only grows) until stopped. */
export class PeakRss {
  #peak = 0;
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #pid: number;

  constructor(pid: number) {
    this.#pid = pid;
    this.#timer = setInterval(() => this.#sample(), 50);
  }

  /** Bytes. */
  stop(): number {
    clearInterval(this.#timer);
    return this.#peak;
  }

  #sample(): void {
    try {
      const status = Deno.readTextFileSync(`/proc/${this.#pid}/status`);
      const kib = Number(status.match(/VmHWM:\s+(\d+) kB/)?.[1] ?? 0);
      this.#peak = Math.max(this.#peak, kib * 1024);
    } catch {
      // The process has exited; keep the last sample.
    }
  }
}

/** CPU time (user + system) a process has used, from /proc (Linux; clock ticks of 10 ms). */
export function cpuMs(pid: number | "self"): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The `p` quantile (0..1) of ascending `sorted`. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}
