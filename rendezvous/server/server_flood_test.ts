import {
  decodeMessage,
  encodeMessage,
  MAX_REPLY_SIZE,
  type RendezvousMessage,
} from "../wire/mod.ts";
import { RendezvousServer } from "./server.ts";
import {
  addr,
  assert,
  assertEquals,
  bytes,
  cookieFor,
  deadline,
  exchange,
  pairThrough,
  udpSocket,
  until,
} from "../testing/mod.ts";

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
function bogusRegistration(cookie?: Uint8Array): Uint8Array {
  const nameplate = String(50_000 + randomInt(50_000));
  const clientId = randomBytes(16);
  const candidates = [addr("10.0.0.1", 1 + randomInt(65535))];
  const choice = randomInt(3);
  const message: RendezvousMessage = choice === 0
    ? { type: "register", role: "receive", clientId, nameplate, candidates, cookie }
    : choice === 1
    ? { type: "register", role: "send", clientId, candidates, cookie }
    : { type: "register", role: "send", clientId, nameplate, candidates, cookie };
  return encodeMessage(message, { padTo: MAX_REPLY_SIZE });
}

/** A well-formed registration with a random cookie. */
function wrongCookie(): Uint8Array {
  return bogusRegistration(randomBytes(16));
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

Deno.test("an honest pair pairs while 64 sockets on its own IP flood junk, wrong cookies and replays", async () => {
  using timeout = deadline(60_000);
  // Default limits, per IP: the flood and the honest pair share 127.0.0.1.
  await using server = RendezvousServer.listen(LOCAL);
  // A valid registration (its cookie is good for its own socket only) for the flood to replay.
  using victim = udpSocket();
  const cookie = await cookieFor(victim, server.addr);
  const valid = encodeMessage(
    {
      type: "register",
      role: "receive",
      clientId: randomBytes(16),
      nameplate: "99999",
      candidates: [],
      cookie,
    },
    { padTo: MAX_REPLY_SIZE },
  );
  assertEquals(decodeMessage((await exchange(victim, valid, server.addr))!).type, "error");
  const flooders = Array.from({ length: 64 }, () => udpSocket());
  let stop = false;
  let sent = 0;
  // Paced bursts (one datagram per socket per timer tick), as above.
  async function flood(): Promise<void> {
    while (!stop) {
      for (const conn of flooders) {
        const kind = sent++ % 3;
        const data = kind === 0 ? garbage() : kind === 1 ? wrongCookie() : valid;
        await conn.send(data, server.addr);
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
  const handled = () => server.stats().malformed + server.stats().cookies;
  const floods = flood();
  let pairing;
  try {
    // The flood has been at it before the pair arrives, and goes on after.
    await until(() => handled() >= 5_000, timeout.signal);
    pairing = await pairThrough(server, timeout.signal);
    const after = handled();
    await until(() => handled() >= after + 5_000, timeout.signal);
  } finally {
    stop = true;
    await floods;
    for (const conn of flooders) conn[Symbol.dispose]();
  }
  assertEquals(pairing.sender.token, pairing.receiver.token);
  const stats = server.stats();
  const why = JSON.stringify(stats);
  // The flood spent no tokens of 127.0.0.1 and got no state: the only proven sources are the
  // victim and the honest pair, the only room the pair's.
  assertEquals([stats.rateLimited, stats.errors, stats.unproven], [0, 0, 0], why);
  assertEquals([stats.sources, stats.rooms], [3, 1], why);
  assert(stats.cookies >= 2 * 5_000 / 3, why);
  assert(stats.udpReplyBytes <= stats.udpRequestBytes, why);
});

Deno.test("cookie answers have one global budget; a source proven earlier is served beyond it", async () => {
  using timeout = deadline(10_000);
  await using server = RendezvousServer.listen({
    ...LOCAL,
    // No refill while the test runs: the burst is all the unproven get, however slow the host.
    cookieRatePerSecond: 1e-6,
    cookieBurst: 50,
  });
  using honest = udpSocket();
  const cookie = await cookieFor(honest, server.addr);
  const flooders = Array.from({ length: 20 }, () => udpSocket());
  try {
    // 100 datagrams of 334 bytes: what the socket's default receive buffer (212,992 bytes
    // of kernel accounting here) holds when they come faster than the server reads.
    for (let round = 0; round < 5; round++) {
      for (const conn of flooders) await conn.send(wrongCookie(), server.addr);
    }
    await until(() => server.stats().received >= 101, timeout.signal);
    const observe = encodeMessage({ type: "observe", clientId: bytes(16, 1), cookie }, {
      padTo: MAX_REPLY_SIZE,
    });
    const reply = await exchange(honest, observe, server.addr);
    assertEquals(decodeMessage(reply!).type, "observation");
  } finally {
    for (const conn of flooders) conn[Symbol.dispose]();
  }
  const stats = server.stats();
  // The burst of 50 went to the honest socket's first contact and 49 flood datagrams; the rest
  // got nothing and cost no per-source state.
  assertEquals(stats.cookies, 50, JSON.stringify(stats));
  assertEquals(stats.unproven, 51);
  assertEquals(stats.sources, 1);
});

Deno.test("one IP proving itself from 50 ports is held to the per-IP budget and room quota", async () => {
  using timeout = deadline(30_000);
  // A per-IP bucket that does not refill while the test runs: what it admits is its burst,
  // however long a loaded machine takes to send.
  const ipBurst = 200;
  await using server = RendezvousServer.listen({ ...LOCAL, ipRatePerSecond: 1e-6, ipBurst });
  const flooders = Array.from({ length: 50 }, () => udpSocket());
  try {
    const cookies = await Promise.all(flooders.map((conn) => cookieFor(conn, server.addr)));
    const rounds = 8; // within each port's own burst (100): only the IP's budget can refuse
    for (let round = 0; round < rounds; round++) {
      for (const [i, conn] of flooders.entries()) {
        await conn.send(bogusRegistration(cookies[i]), server.addr);
      }
      // An answer to a new socket's first contact: the server has handled all sent before it
      // (and the next round cannot overflow its socket's receive buffer).
      using probe = udpSocket();
      await cookieFor(probe, server.addr);
      timeout.signal.throwIfAborted();
    }
    const stats = server.stats();
    const why = JSON.stringify(stats);
    assertEquals(stats.received - stats.cookies, rounds * flooders.length, why);
    assertEquals(stats.received - stats.cookies - stats.rateLimited, ipBurst, why);
    assert(stats.rooms <= 32, `${stats.rooms} rooms from one IP`);
  } finally {
    for (const conn of flooders) conn[Symbol.dispose]();
  }
});
