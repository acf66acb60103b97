/**
 * One rendezvous instance for `bench/rendezvous.ts`, in its own process so
 * its RSS is its own: room limits raised so 100,000 rooms fit and nothing
 * expires during a run; per-source rate limits as in production.
 *
 *   deno run -A bench/_rendezvous_instance.ts [--store URL] [--server path/to/rendezvous/mod.ts]
 *   deno run -A bench/_rendezvous_instance.ts --echo
 *
 * `--echo` runs no server but the baseline any UDP server in Deno pays: one
 * socket that sends every datagram back to its source (every third one twice,
 * as many datagrams as the server sends per pairing), as fast as
 * `Deno.DatagramConn` receives and sends.
 *
 * Prints `{"type":"listening","port":N}`; then, for each line "stats" on
 * stdin, one line of JSON with the server's stats and this process's RSS (for
 * "stats live", after a full collection); it ends when stdin closes.
 */
import type { RendezvousServer as Server, ServeOptions } from "../rendezvous/server_mod.ts";
import { cpuMs } from "./_bench_util.ts";

const storeArg = Deno.args.indexOf("--store");
const serverArg = Deno.args.indexOf("--server");
const echo = Deno.args.includes("--echo");

const options: ServeOptions = {
  hostname: "127.0.0.1",
  port: 0,
  maxRooms: 250_000,
  maxRoomsPerSource: 250_000,
  idleTimeoutMs: 30 * 60_000,
  maxWaitMs: 60 * 60_000,
  pairedLingerMs: 30 * 60_000,
};
if (storeArg >= 0) options.store = Deno.args[storeArg + 1];
/** Sends every datagram back to its source: a UDP server that does nothing else. */
class EchoServer implements AsyncDisposable {
  readonly addr: Deno.NetAddr;
  readonly #conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  readonly #loop: Promise<void>;
  #received = 0;
  #echoed = 0;
  #errors = 0;

  constructor() {
    this.addr = this.#conn.addr as Deno.NetAddr;
    this.#loop = this.#serve();
  }

  async #serve(): Promise<void> {
    const buffer = new Uint8Array(2048);
    try {
      for (;;) {
        const [data, from] = await this.#conn.receive(buffer);
        // Not awaited, like the server's replies, so the next receive starts at once
        // (a copy: the send may still read it when the next datagram fills `buffer`).
        const reply = data.slice();
        this.#conn.send(reply, from).catch(() => this.#errors++);
        // A pairing is three requests and four datagrams out (three replies and the
        // push to the waiting sender): every third datagram goes back twice, so the
        // echo sends what the server sends.
        if (++this.#received % 3 === 0) {
          this.#conn.send(reply, from).catch(() => this.#errors++);
          this.#echoed++;
        }
        this.#echoed++;
      }
    } catch {
      // closed
    }
  }

  metrics(): Promise<string> {
    return Promise.resolve("");
  }

  stats() {
    return {
      received: this.#received,
      replies: this.#echoed,
      errors: this.#errors,
      pairings: 0,
      rateLimited: 0,
      tooSmall: 0,
      malformed: 0,
    };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#conn.close();
    await this.#loop;
  }
}

await using served = echo ? new EchoServer() : await startServer();
const write = (value: unknown) =>
  Deno.stdout.write(new TextEncoder().encode(JSON.stringify(value) + "\n"));
await write({ type: "listening", port: served.addr.port });
let buffered = "";
for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  buffered += chunk;
  let newline;
  while ((newline = buffered.indexOf("\n")) >= 0) {
    const line = buffered.slice(0, newline).trim();
    buffered = buffered.slice(newline + 1);
    if (line === "stats" || line === "stats live") {
      // The CPU the requests took, before the collection below (the bench's own doing).
      const cpu = cpuMs("self");
      // Run with --v8-flags=--expose-gc: count live memory, not garbage not yet collected.
      if (line === "stats live") (globalThis as { gc?: () => void }).gc?.();
      if (options.store) await served.metrics(); // refreshes the shared room count
      await write({
        type: "stats",
        ...served.stats(),
        rss: Deno.memoryUsage().rss,
        heapUsed: Deno.memoryUsage().heapUsed,
        cpuMs: cpu,
      });
    }
  }
}

async function startServer(): Promise<Server> {
  // --server lets the load test compare against another checkout of the server.
  const module = serverArg >= 0
    ? new URL(`file://${Deno.args[serverArg + 1]}`)
    : new URL("../rendezvous/mod.ts", import.meta.url);
  // The server is exported by server_mod.ts beside mod.ts (older checkouts: by mod.ts).
  const loaded = await import(module.href);
  const { RendezvousServer } =
    (loaded.RendezvousServer ? loaded : await import(new URL("server_mod.ts", module).href)) as {
      RendezvousServer: typeof Server;
    };
  const server = RendezvousServer.listen(options);
  await server.ready?.(AbortSignal.timeout(10_000));
  return server;
}
