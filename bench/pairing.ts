/**
 * How long a receiver that came first (`receive --timeout`) waits after its sender registers:
 * from the sender's `register()` call to both pairings, with the rendezvous server and both
 * clients in this process on loopback (rendezvous/PROTOCOL.md, "Push to a waiting receiver").
 * Each run: the receiver registers and is told no sender is there yet; after a random 0–50 ms (a
 * poll's phase) the sender registers.
 *
 *   deno run -A bench/pairing.ts [--runs 30] [--compare path/to/other/checkout]
 *
 * `--compare`: another checkout's server and client run the same, alternating round by round,
 * so before/after is read from one run.
 */
import { percentile } from "./_bench_util.ts";

const runsAt = Deno.args.indexOf("--runs");
const RUNS = runsAt >= 0 ? Number(Deno.args[runsAt + 1]) : 30;
const compareAt = Deno.args.indexOf("--compare");
const here = new URL("../", import.meta.url).href;
const checkouts = compareAt >= 0
  ? [here, new URL(`${Deno.realPathSync(Deno.args[compareAt + 1])}/`, "file:///").href]
  : [here];

interface Checkout {
  RendezvousServer: typeof import("../rendezvous/server_mod.ts").RendezvousServer;
  register: typeof import("../rendezvous/mod.ts").register;
  UdpDatagramPort: typeof import("../rendezvous/testing/mod.ts").UdpDatagramPort;
}

async function load(root: string): Promise<Checkout> {
  const [server, client, testing] = await Promise.all([
    import(`${root}rendezvous/server_mod.ts`),
    import(`${root}rendezvous/mod.ts`),
    import(`${root}rendezvous/testing/mod.ts`),
  ]);
  return { ...server, ...client, ...testing };
}

/** One pairing of a waiting receiver: ms from the sender's register() to both paired. */
async function pairOnce(c: Checkout, server: Deno.NetAddr, nameplate: string): Promise<number> {
  const signal = AbortSignal.timeout(10_000);
  await using receiverPort = new c.UdpDatagramPort();
  await using senderPort = new c.UdpDatagramPort();
  const waiting = Promise.withResolvers<void>();
  const received = c.register(receiverPort, {
    server,
    role: "receive",
    nameplate,
    candidates: [],
    waitForSenderMs: 5_000,
    onWaitingForSender: waiting.resolve,
    signal,
  }).then(() => performance.now());
  await waiting.promise;
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 50));
  const start = performance.now();
  const sent = c.register(senderPort, { server, role: "send", nameplate, candidates: [], signal })
    .then(() => performance.now());
  return Math.max(...await Promise.all([received, sent])) - start;
}

const loaded = await Promise.all(checkouts.map(load));
const servers = loaded.map((c) => c.RendezvousServer.listen({ hostname: "127.0.0.1", port: 0 }));
const times: number[][] = checkouts.map(() => []);
try {
  for (let run = 0; run < RUNS; run++) {
    for (const [index, c] of loaded.entries()) {
      times[index].push(await pairOnce(c, servers[index].addr, String(100 + run)));
    }
  }
} finally {
  for (const server of servers) await server[Symbol.asyncDispose]();
}
console.log(
  `${RUNS} runs each, ms from the sender's register to both paired; load ${Deno.loadavg()[0]}`,
);
for (const [index, root] of checkouts.entries()) {
  const sorted = times[index].toSorted((a, b) => a - b);
  const [p50, p90] = [percentile(sorted, 0.5), percentile(sorted, 0.9)];
  console.log(
    `${root}: median ${p50.toFixed(1)}, p90 ${p90.toFixed(1)}, max ${sorted.at(-1)!.toFixed(1)}`,
  );
}
