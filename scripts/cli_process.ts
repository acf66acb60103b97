/**
 * Spawns `deno run -A main.ts ...` as a real child process and reads its
 * `--json` events line by line. Shared by the end-to-end tests, the demo and
 * the benchmark.
 */
const MAIN = new URL("../main.ts", import.meta.url).pathname;

export interface CliEvent {
  type: string;
  [key: string]: unknown;
}

export interface CliRun {
  /** Resolves to the first event of this type (rejects if the process ends first). */
  next(type: string, signal?: AbortSignal): Promise<CliEvent>;
  /** Resolves to the first event that satisfies `test` (rejects if the process ends first). */
  until(test: (event: CliEvent) => boolean, signal?: AbortSignal): Promise<CliEvent>;
  /** Every event seen so far. */
  readonly events: CliEvent[];
  /** Waits for exit; returns code, every event and stderr text. */
  finished(): Promise<{ code: number; events: CliEvent[]; stderr: string; stdout: string }>;
  readonly pid: number;
  kill(signal?: Deno.Signal): void;
  /** The child's stdin, when spawned with `stdin: "piped"`. */
  readonly stdin?: WritableStream<Uint8Array>;
}

export interface SpawnCliOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Prefix the command (e.g. `ip netns exec NAME`). */
  wrapper?: string[];
  /** "piped": write the child's stdin through `CliRun.stdin` (default: no stdin). */
  stdin?: "piped" | "null";
  /** Note the child's main-thread CPU time as each event is read ({@link mainCpuMs}; Linux). */
  cpu?: boolean;
}

/** Starts the CLI with `args` (add `--json` yourself). */
export function spawnCli(args: string[], options: SpawnCliOptions = {}): CliRun {
  return spawnJsonLines([Deno.execPath(), "run", "-A", MAIN, ...args], options);
}

const arrivedAt = new WeakMap<CliEvent, number>();
const stampedAt = new WeakMap<CliEvent, number>();
const mainCpuAt = new WeakMap<CliEvent, number>();

/**
 * The `t` the CLI stamped on `event` (ms since the child's runtime started, `performance.now()`:
 * some tens of ms after the child process did). The reader takes `t` off each event, so that
 * tests compare events by their other fields.
 */
export function stampMs(event: CliEvent | undefined): number | undefined {
  return event && stampedAt.get(event);
}

/** When the test read `event` from the child's stdout (`performance.now()`), if it did. */
export function arrivalMs(event: CliEvent | undefined): number | undefined {
  return event && arrivedAt.get(event);
}

/**
 * The CPU time the child's main thread had used when the test read `event` (ms), for a child
 * spawned with `cpu: true` on Linux. Unlike wall times, it hardly grows with the host's load.
 */
export function mainCpuMs(event: CliEvent | undefined): number | undefined {
  return event && mainCpuAt.get(event);
}

/** `/proc/PID/task/PID/schedstat`'s time on CPU, in ms; undefined where there is none. */
function mainThreadCpuMs(pid: number): number | undefined {
  try {
    const text = new TextDecoder().decode(Deno.readFileSync(`/proc/${pid}/task/${pid}/schedstat`));
    return Number(text.split(" ")[0]) / 1e6;
  } catch {
    return undefined;
  }
}

const CONFIG = new URL("../deno.json", import.meta.url).pathname;

/** Starts a test script (`deno run -A script ...args`) whose stdout is JSON lines. */
export function spawnScript(script: URL, args: string[]): CliRun {
  return spawnJsonLines([
    Deno.execPath(),
    "run",
    "-A",
    "--config",
    CONFIG,
    script.pathname,
    ...args,
  ]);
}

/** Starts any command whose stdout is JSON lines (the CLI with --json, or a test script). */
export function spawnJsonLines(argv: string[], options: SpawnCliOptions = {}): CliRun {
  const command = [...(options.wrapper ?? []), ...argv];
  const child = new Deno.Command(command[0], {
    args: command.slice(1),
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", ...options.env },
    cwd: options.cwd,
    stdin: options.stdin ?? "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const events: CliEvent[] = [];
  const waiters: Array<() => void> = [];
  let stdout = "";
  let ended = false;
  const notify = () => waiters.splice(0).forEach((wake) => wake());
  const readStdout = (async () => {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of child.stdout) {
      const text = decoder.decode(chunk, { stream: true });
      stdout += text;
      pending += text;
      let newline;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        let event: CliEvent;
        try {
          event = JSON.parse(line);
        } catch {
          event = { type: "non-json", line };
        }
        if (typeof event.t === "number") {
          const { t, ...rest } = event;
          event = rest as CliEvent;
          stampedAt.set(event, t);
        }
        arrivedAt.set(event, performance.now());
        const cpu = options.cpu ? mainThreadCpuMs(child.pid) : undefined;
        if (cpu !== undefined) mainCpuAt.set(event, cpu);
        events.push(event);
        notify();
      }
    }
    ended = true;
    notify();
  })();
  const stderr = new Response(child.stderr).text();
  const until = async (test: (event: CliEvent) => boolean, signal?: AbortSignal) => {
    while (true) {
      const found = events.find(test);
      if (found) return found;
      if (ended) {
        throw new Error(
          `CLI ended without the event awaited; events: ${
            JSON.stringify(events)
          }; stderr: ${await stderr}`,
        );
      }
      signal?.throwIfAborted();
      await new Promise<void>((resolve, reject) => {
        waiters.push(resolve);
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    }
  };
  return {
    events,
    pid: child.pid,
    ...(options.stdin === "piped" ? { stdin: child.stdin } : {}),
    kill: (signal = "SIGTERM") => {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
    },
    next: (type, signal) => until((event) => event.type === type, signal),
    until,
    async finished() {
      const [status] = await Promise.all([child.status, readStdout]);
      return { code: status.code, events, stderr: await stderr, stdout };
    },
  };
}
