/**
 * A rendezvous bench instance in its own process (bench/_rendezvous_instance.ts),
 * spoken to over stdin/stdout: its port on the first line, then `stats` on demand.
 */

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
   * bare socket baseline; `v8Flags` are added to the instance's.
   */
  static async start(store?: string, v8Flags = "", serverModule?: string): Promise<Instance> {
    const args = [
      "run",
      "-A",
      `--v8-flags=--expose-gc${v8Flags}`,
      new URL("./_rendezvous_instance.ts", import.meta.url).pathname,
    ];
    if (store === "echo") args.push("--echo");
    else if (store) args.push("--store", store);
    if (serverModule) args.push("--server", serverModule);
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

  async stats(): Promise<Record<string, number>> {
    await this.#stdin.write(new TextEncoder().encode("stats\n"));
    const { value, done } = await this.#lines.read();
    if (done) throw new Error("bench instance exited");
    return JSON.parse(value);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#stdin.close().catch(() => {});
    this.#child.kill("SIGKILL");
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
      for (const line of lines) if (line.trim() !== "") controller.enqueue(line);
    },
  });
}
