/**
 * Notices that this process did not run for longer than the peer waits
 * (SIGSTOP or Ctrl-Z, a debugger, a host that starved it): the peer, which
 * heard no keep-alive meanwhile, has given the link up. QUIC cannot tell on
 * its own: on resume it first reads the packets the peer sent during the
 * pause, which restart its idle timer and, as round-trip samples as long as
 * the pause, stretch that timer to three probe timeouts (tens of seconds, a
 * frozen sender took 18.7 s, or hit the 30 s stall timeout, to exit).
 *
 * A monotonic clock is what is compared: it runs on while a process is
 * stopped, and stands still while the whole machine sleeps (then the peer, if
 * on the same machine, slept too).
 */

export interface PauseWatchOptions {
  /** A gap between two ticks longer than this is a pause. */
  limitMs: number;
  /** How often to tick (shorter than `limitMs`). */
  everyMs: number;
  /** Called once, with the gap, when a pause is noticed; the watch then stops. */
  onPause: (gapMs: number) => void;
  /** Monotonic milliseconds (default `performance.now`). */
  now?: () => number;
}

export class PauseWatch implements Disposable {
  readonly #options: PauseWatchOptions;
  readonly #now: () => number;
  readonly #timer: ReturnType<typeof setInterval>;
  #last: number;
  #stopped = false;

  constructor(options: PauseWatchOptions) {
    if (!(options.everyMs > 0 && options.everyMs < options.limitMs)) {
      throw new RangeError(
        `Invalid pause watch: ticks every ${options.everyMs} ms for a limit of ${options.limitMs} ms`,
      );
    }
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.#last = this.#now();
    this.#timer = setInterval(() => this.#tick(), options.everyMs);
    // A watch never keeps the process alive: it only ends what is still open.
    Deno.unrefTimer(this.#timer);
  }

  /**
   * Stops ticking, after one last look: a link that ended the moment the
   * process resumed (its own idle timer fired first) still learns it was a
   * pause. Idempotent.
   */
  stop(): void {
    if (this.#stopped) return;
    clearInterval(this.#timer);
    this.#tick();
    this.#stopped = true;
  }

  [Symbol.dispose](): void {
    this.stop();
  }

  #tick(): void {
    if (this.#stopped) return;
    const now = this.#now();
    const gap = now - this.#last;
    this.#last = now;
    if (gap <= this.#options.limitMs) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#options.onPause(gap);
  }
}
