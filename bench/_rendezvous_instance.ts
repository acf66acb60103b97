/**
 * One rendezvous instance for `bench/rendezvous.ts`, in its own process so
 * its RSS is its own: room limits raised so 100,000 rooms fit and nothing
 * expires during a run; per-source rate limits as in production.
 *
 *   deno run -A bench/_rendezvous_instance.ts [--store URL] [--server path/to/rendezvous/mod.ts]
 *
 * Prints `{"type":"listening","port":N}`; then, for each line "stats" on
 * stdin, one line of JSON with the server's stats and this process's RSS.
 */
import type { RendezvousServer as Server, ServeOptions } from "../rendezvous/mod.ts";
import { cpuMs } from "./_bench_util.ts";

const storeArg = Deno.args.indexOf("--store");
const serverArg = Deno.args.indexOf("--server");
// --server lets the load test compare against another checkout of the server.
const module = serverArg >= 0
  ? new URL(`file://${Deno.args[serverArg + 1]}`).href
  : new URL("../rendezvous/mod.ts", import.meta.url).href;
const { RendezvousServer } = await import(module) as { RendezvousServer: typeof Server };

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
await using server = RendezvousServer.listen(options);
await server.ready?.(AbortSignal.timeout(10_000));
const write = (value: unknown) =>
  Deno.stdout.write(new TextEncoder().encode(JSON.stringify(value) + "\n"));
await write({ type: "listening", port: server.addr.port });
let buffered = "";
for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  buffered += chunk;
  let newline;
  while ((newline = buffered.indexOf("\n")) >= 0) {
    const line = buffered.slice(0, newline).trim();
    buffered = buffered.slice(newline + 1);
    if (line === "stats") {
      // Run with --v8-flags=--expose-gc: count live memory, not garbage not yet collected.
      (globalThis as { gc?: () => void }).gc?.();
      if (options.store) await server.metrics(); // refreshes the shared room count
      await write({
        type: "stats",
        ...server.stats(),
        rss: Deno.memoryUsage().rss,
        heapUsed: Deno.memoryUsage().heapUsed,
        cpuMs: cpuMs("self"),
      });
    }
  }
}
