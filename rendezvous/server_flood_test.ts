import { encodeMessage, MAX_REPLY_SIZE, type RendezvousMessage } from "./protocol.ts";
import { RendezvousServer } from "./server.ts";
import { addr } from "./_testing_samples.ts";
import { assert, assertEquals } from "./_testing.ts";
import { deadline, exchange, pairThrough, udpSocket } from "./_testing_net.ts";

const LOCAL = { hostname: "127.0.0.1", port: 0 };

function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

function randomInt(limit: number): number {
  return Math.floor(Math.random() * limit);
}

/** Random bytes; half of them look like rendezvous datagrams so they get past the header check. */
function garbage(): Uint8Array {
  const data = randomBytes(randomInt(1500));
  if (data.length >= 6 && randomInt(2) === 0) data.set([0x50, 0x32, 0x52, 0x56, 1], 0);
  return data;
}

/**
 * A well-formed registration with a fresh client id: receivers guess nameplates,
 * senders open rooms. Nameplates stay in 50000-99999 so the flood cannot take the
 * honest pair's room (allocated low) — a guess that hits it would be a failed
 * pairing the PAKE detects, by design, not something a server can prevent.
 */
function bogusRegistration(): Uint8Array {
  const nameplate = String(50_000 + randomInt(50_000));
  const clientId = randomBytes(16);
  const candidates = [addr("10.0.0.1", 1 + randomInt(65535))];
  const choice = randomInt(3);
  const message: RendezvousMessage = choice === 0
    ? { type: "register", role: "receive", clientId, nameplate, candidates }
    : choice === 1
    ? { type: "register", role: "send", clientId, candidates }
    : { type: "register", role: "send", clientId, nameplate, candidates };
  return encodeMessage(message, { padTo: MAX_REPLY_SIZE });
}

const PROBE = encodeMessage(
  {
    type: "register",
    role: "receive",
    clientId: new Uint8Array(16),
    nameplate: "1",
    candidates: [],
  },
  { padTo: MAX_REPLY_SIZE },
);

Deno.test("the server survives 10,000 garbage datagrams, counts them, and still pairs peers", async () => {
  using timeout = deadline(15_000);
  await using server = RendezvousServer.listen({ ...LOCAL, ratePerSecond: 1e6, burst: 1e6 });
  using conn = udpSocket();
  // Batches small enough for the server socket's receive buffer: here sender and server
  // share one thread, so an unpaced sender would only measure kernel drops.
  for (let batch = 0; batch < 200; batch++) {
    for (let i = 0; i < 50; i++) await conn.send(garbage(), server.addr);
    // The answer to a probe proves the server has handled everything sent before it.
    assert((await exchange(conn, PROBE, server.addr)) !== undefined, `batch ${batch}`);
  }
  const stats = server.stats();
  assertEquals(stats.received, 10_200);
  assertEquals(stats.malformed + stats.tooSmall, 10_000);
  assertEquals(stats.errors, 0);
  const { sender, receiver } = await pairThrough(server, timeout.signal);
  assertEquals(sender.token, receiver.token);
});

Deno.test("an honest pair pairs while 50 sockets flood junk and bogus registrations", async () => {
  using timeout = deadline(60_000);
  // "ip-port": on loopback every flooding socket stands in for one attacking host.
  await using server = RendezvousServer.listen({ ...LOCAL, sourceKey: "ip-port" });
  const flooders = Array.from({ length: 50 }, () => udpSocket());
  let stop = false;
  // Paced bursts (one datagram per socket per timer tick): the flood runs on the
  // server's own thread, and one that never yields would only measure how the
  // kernel drops datagrams from a full receive buffer, which no server code can fix.
  async function flood(): Promise<void> {
    while (!stop) {
      for (const conn of flooders) {
        await conn.send(randomInt(2) === 0 ? garbage() : bogusRegistration(), server.addr);
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
  /** Resolves once the server has rate-limited `count` more datagrams (however slow this machine). */
  async function limited(count: number): Promise<void> {
    const target = server.stats().rateLimited + count;
    while (server.stats().rateLimited < target) {
      timeout.signal.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  const started = performance.now();
  const floods = flood();
  let pairing;
  try {
    // Every flooding source has drained its bucket before the pair arrives...
    await limited(5_000);
    pairing = await pairThrough(server, timeout.signal);
    // ...and the server keeps dropping the flood after pairing.
    await limited(5_000);
  } finally {
    stop = true;
    await floods;
    for (const conn of flooders) conn[Symbol.dispose]();
  }
  const seconds = (performance.now() - started) / 1000;
  assertEquals(pairing.sender.token, pairing.receiver.token);
  const stats = server.stats();
  const why = JSON.stringify(stats);
  // Junk was dropped and counted, not answered.
  assert(stats.malformed > 0, why);
  assertEquals(stats.errors, 0);
  // What got past the limiter stays within 50 flooders' + the honest pair's buckets...
  const allowed = stats.received - stats.rateLimited;
  assert(allowed <= 52 * (100 + 50 * seconds), `${allowed} allowed in ${seconds} s: ${why}`);
  // ...and at most one reply went out per request that was neither limited nor dropped.
  assert(stats.replies <= allowed - stats.malformed - stats.tooSmall, why);
  assert(stats.rooms <= 50 * 32 + 1, `${stats.rooms} rooms: the per-source quota failed`);
});

Deno.test("one source flooding from 50 ports is held to one rate limit", async () => {
  await using server = RendezvousServer.listen(LOCAL); // default: per IP, 50/s burst 100
  const flooders = Array.from({ length: 50 }, () => udpSocket());
  try {
    const started = performance.now();
    await Promise.all(flooders.map(async (conn) => {
      for (let i = 0; i < 40; i++) await conn.send(bogusRegistration(), server.addr);
    }));
    const seconds = (performance.now() - started) / 1000;
    // A probe from yet another port of the same IP is rate-limited too, or answered once refilled.
    await exchange(flooders[0], PROBE, server.addr, 100);
    const stats = server.stats();
    const allowed = stats.received - stats.rateLimited;
    assert(allowed <= 100 + 50 * (seconds + 0.2) + 1, `${allowed} allowed in ${seconds} s`);
    assert(stats.rooms <= 32, `${stats.rooms} rooms from one IP`);
  } finally {
    for (const conn of flooders) conn[Symbol.dispose]();
  }
});
