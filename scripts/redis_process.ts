/**
 * A throwaway `redis-server` for tests and the load test: a free port on 127.0.0.1, no
 * persistence, started and killed (by PID) by the test. `REDIS_MISSING`
 * says why Redis tests are skipped on a machine without it.
 */
import { type SkipDecision, skipUnlessCi } from "./skip_unless_ci.ts";

async function findRedis(): Promise<string | undefined> {
  try {
    const { success } = await new Deno.Command("redis-server", { args: ["--version"] }).output();
    return success ? undefined : "redis-server --version failed";
  } catch {
    return "redis-server is not installed (Debian: apt-get install redis-server; .ci/run does)";
  }
}

/** Why Redis tests are skipped here, or undefined when `redis-server` runs. */
export const REDIS_MISSING: string | undefined = await findRedis();
/** How a Redis test is registered: skipped without Redis, except where CI demands it (it then fails). */
export const REDIS_SKIP: SkipDecision = skipUnlessCi(REDIS_MISSING);

const READY = "Ready to accept connections";

function freePort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return (listener.addr as Deno.NetAddr).port;
}

export class TestRedis implements AsyncDisposable {
  readonly port: number;
  readonly url: string;
  #child?: Deno.ChildProcess;

  private constructor(port: number) {
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
  }

  /** Starts a server on a free port and waits until it accepts connections. */
  static async start(): Promise<TestRedis> {
    if (REDIS_MISSING) throw new Error(`Redis is not available here: ${REDIS_MISSING}`);
    const redis = new TestRedis(freePort());
    await redis.restart();
    return redis;
  }

  /** (Re)starts the server on the same port, empty; resolves once it is ready. */
  async restart(): Promise<void> {
    if (this.#child) throw new Error("redis-server is already running");
    const child = new Deno.Command("redis-server", {
      args: [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#child = child;
    // Its log says when it is ready; reading stops there (the pipe closes, Redis ignores SIGPIPE).
    let log = "";
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
      log += text;
      if (log.includes(READY)) break;
    }
    if (!log.includes(READY)) {
      await this.stop();
      throw new Error(`redis-server did not start on port ${this.port}: ${log}`);
    }
  }

  /** The running server's process id. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Kills the server (SIGKILL by PID) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
