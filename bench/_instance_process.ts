/**
 * A rendezvous bench instance in its own process (bench/_rendezvous_instance.ts),
 * spoken to over stdin/stdout: its port on the first line, then `stats` on demand.
 */

/** How long an instance gets to exit on its own (a CPU profile takes a moment to write). */
const EXIT_WAIT_MS = 10_000;

export interface InstanceOptions {
  /** Added to the instance's V8 flags (each starting with a comma). */
  v8Flags?: string;
  /** Another checkout's rendezvous `mod.ts` to serve. */
  serverModule?: string;
  /** Where the instance writes a CPU profile (`deno run --cpu-prof`) when it ends. */
  cpuProfileDir?: string;
}

/** One bench instance process (bench/_rendezvous_instance.ts). */
export class Instance implements AsyncDisposable {
  readonly port: number;
  readonly #child: Deno.ChildProcess;
  readonly #lines: ReadableStreamDefaultReader<string>;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;

  private constructor(
    port: number,
    child: Deno.ChildProcess,
    lines: ReadableStreamDefaultReader<string>,
    stdin: WritableStreamDefaultWriter<Uint8Array>,
  ) {
    this.port = port;
    this.#child = child;
    this.#lines = lines;
    this.#stdin = stdin;
  }

  /**
   * A server (in memory, or on the Redis at `store`), or with `"echo"` the
   * bare socket baseline; `v8Flags` are added to the instance's; with
   * `cpuProfileDir`, the instance writes a CPU profile there when it ends.
   */
  static async start(store: string | undefined, options: InstanceOptions = {}): Promise<Instance> {
    const args = [
      "run",
      "-A",
      `--v8-flags=--expose-gc${options.v8Flags ?? ""}`,
      // V8 rejects code cached under other flags: with the shared DENO_DIR's cache, each bench run
      // would recompile and rewrite every module it shares with the CLI, and the next plain
      // `deno run` would do the same back (peer/PROTOCOL.md, "Start-up").
      "--no-code-cache",
      // One sample per 200 µs (the default 1 ms sees few of a request's many small parts).
      ...(options.cpuProfileDir
        ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`, "--cpu-prof-interval=200"]
        : []),
      new URL("./_rendezvous_instance.ts", import.meta.url).pathname,
    ];
    if (store === "echo") args.push("--echo");
    else if (store) args.push("--store", store);
    if (options.serverModule) args.push("--server", options.serverModule);
    const child = new Deno.Command(Deno.execPath(), {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(lineSplitter())
      .getReader();
    const first = await lines.read();
    if (first.done) throw new Error("bench instance exited before listening");
    return new Instance(JSON.parse(first.value).port, child, lines, child.stdin.getWriter());
  }

  get addr(): Deno.NetAddr {
    return { transport: "udp", hostname: "127.0.0.1", port: this.port };
  }

  /**
   * The instance's counters and CPU time; with `live`, after a full collection, so its
   * heap and RSS count live memory only. Only then: a forced collection drops the
   * instance's optimized code (V8 deoptimizes it when the collection clears what it
   * embeds), and the requests after it would run slower for a while than the load alone makes them.
   */
  async stats(options: { live?: boolean } = {}): Promise<Record<string, number>> {
    await this.#stdin.write(new TextEncoder().encode(options.live ? "stats live\n" : "stats\n"));
    const { value, done } = await this.#lines.read();
    if (done) throw new Error("bench instance exited");
    return JSON.parse(value);
  }

  /** Ends the instance: it exits once its stdin closes (writing its profile), or is killed. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#stdin.close().catch(() => {});
    const exited = await Promise.race([
      this.#child.status.then(() => true),
      new Promise<false>((resolve) => {
        const timer = setTimeout(() => resolve(false), EXIT_WAIT_MS);
        this.#child.status.finally(() => clearTimeout(timer));
      }),
    ]);
    if (!exited) this.#child.kill("SIGKILL");
    await this.#child.status;
    await this.#lines.cancel().catch(() => {});
  }
}

function lineSplitter(): TransformStream<string, string> {
  let buffered = "";
  return new TransformStream({
    transform(chunk, controller) {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        // The instance's JSON lines; anything else on its stdout (V8's --trace-gc, say, whose
        // lines can run into them) goes to stderr, where it is seen and answers nothing.
        const json = line.indexOf('{"type":');
        const other = json < 0 ? line : line.slice(0, json);
        if (other.trim() !== "") console.error(other);
        if (json >= 0) controller.enqueue(line.slice(json));
      }
    },
  });
}
