/** What the server answers and what it drops: reply sizes, junk, budgets, cookies. */
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
  assertThrows,
  bytes,
  cookieFor,
  deadline,
  exchange,
  pairThrough,
  udpSocket,
  until,
} from "../testing/mod.ts";

const LOCAL = { hostname: "127.0.0.1", port: 0 };

/** Sends `count` junk datagrams, yielding now and then so the server (same thread) drains them. */
async function sendJunk(conn: Deno.DatagramConn, to: Deno.NetAddr, count: number) {
  for (let i = 0; i < count; i++) {
    await conn.send(new Uint8Array(10), to);
    if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

Deno.test("the server does not answer a request shorter than its reply", async () => {
  await using server = RendezvousServer.listen(LOCAL);
  using conn = udpSocket();
  const message: RendezvousMessage = {
    type: "register",
    role: "send",
    clientId: bytes(16, 1),
    candidates: [],
  };
  const short = encodeMessage(message); // valid but unpadded
  assert(short.length < MAX_REPLY_SIZE);
  await conn.send(short, server.addr);
  // The padded retry is answered; had the short one been answered, that reply would come first.
  const padded = encodeMessage(message, { padTo: MAX_REPLY_SIZE });
  const reply = await exchange(conn, padded, server.addr);
  assert(reply !== undefined);
  assert(reply.length <= padded.length);
  // The first answer to an unproven source is its cookie, and no room.
  assertEquals(decodeMessage(reply).type, "cookie");
  const stats = server.stats();
  assertEquals([stats.tooSmall, stats.replies, stats.rooms], [1, 1, 0]);
});

Deno.test("the server drops oversized, malformed and reply-typed datagrams and counts them", async () => {
  await using server = RendezvousServer.listen(LOCAL);
  using conn = udpSocket();
  await conn.send(new Uint8Array(1500).fill(0x50), server.addr);
  await conn.send(new TextEncoder().encode("P2RV\x03\x01\x02\x00\x10"), server.addr);
  await conn.send(new TextEncoder().encode("P2RV\x09\x01"), server.addr);
  await conn.send(
    encodeMessage({
      type: "waiting",
      clientId: bytes(16, 1),
      nameplate: "1",
      observed: addr("1.2.3.4", 5),
    }, {
      padTo: 400,
    }),
    server.addr,
  );
  const padded = encodeMessage(
    { type: "register", role: "receive", nameplate: "3", clientId: bytes(16, 1), candidates: [] },
    { padTo: MAX_REPLY_SIZE },
  );
  const reply = await exchange(conn, padded, server.addr);
  assertEquals(decodeMessage(reply!).type, "cookie");
  const stats = server.stats();
  assertEquals([stats.received, stats.malformed, stats.replies, stats.errors], [5, 4, 1, 0]);
});

Deno.test("junk costs a source nothing: a socket on the same IP is served after 200 junk datagrams", async () => {
  const limits = { ratePerSecond: 1, burst: 5, ipRatePerSecond: 1, ipBurst: 5 };
  await using server = RendezvousServer.listen({ ...LOCAL, ...limits });
  using noisy = udpSocket();
  using quiet = udpSocket();
  await sendJunk(noisy, server.addr, 200);
  const cookie = await cookieFor(quiet, server.addr);
  const padded = encodeMessage(
    {
      type: "register",
      role: "receive",
      nameplate: "3",
      clientId: bytes(16, 1),
      candidates: [],
      cookie,
    },
    { padTo: MAX_REPLY_SIZE },
  );
  const reply = await exchange(quiet, padded, server.addr);
  assertEquals(decodeMessage(reply!), {
    type: "error",
    clientId: bytes(16, 1),
    code: 1,
    nameplate: "3",
  });
  const stats = server.stats();
  assertEquals([stats.malformed, stats.rateLimited, stats.sources], [200, 0, 1]);
});

/** Sends `count` proven observes from `conn` and waits until the server has handled them. */
async function provenObserves(
  server: RendezvousServer,
  conn: Deno.DatagramConn,
  count: number,
  signal: AbortSignal,
) {
  const cookie = await cookieFor(conn, server.addr);
  const observe = encodeMessage({ type: "observe", clientId: bytes(16, 2), cookie }, {
    padTo: MAX_REPLY_SIZE,
  });
  const target = server.stats().received + count;
  for (let i = 0; i < count; i++) await conn.send(observe, server.addr);
  await until(() => server.stats().received >= target, signal);
}

Deno.test("a proven source is held to its ip:port budget, and all ports of an IP to the IP budget", async () => {
  using timeout = deadline(10_000);
  // Refill at 1/s: the few tokens that trickle in while the test runs stay within the slack.
  const limits = { ratePerSecond: 1, burst: 20, ipRatePerSecond: 1, ipBurst: 30 };
  await using server = RendezvousServer.listen({ ...LOCAL, ...limits });
  using a = udpSocket();
  using b = udpSocket();
  await provenObserves(server, a, 40, timeout.signal);
  const afterA = server.stats().rateLimited;
  assert(afterA >= 18 && afterA <= 20, `a: ${afterA} limited of 40 (port burst 20)`);
  await provenObserves(server, b, 40, timeout.signal);
  const afterB = server.stats().rateLimited - afterA;
  assert(afterB >= 28 && afterB <= 30, `b: ${afterB} limited of 40 (10 left of the IP's 30)`);
  assertEquals(server.stats().sources, 2);
});

Deno.test("with sourceKey ip-port every socket has its own per-IP budget too", async () => {
  using timeout = deadline(10_000);
  const limits = { ratePerSecond: 1, burst: 20, ipRatePerSecond: 1, ipBurst: 30 };
  await using server = RendezvousServer.listen({ ...LOCAL, ...limits, sourceKey: "ip-port" });
  using a = udpSocket();
  using b = udpSocket();
  await provenObserves(server, a, 40, timeout.signal);
  await provenObserves(server, b, 40, timeout.signal);
  const limited = server.stats().rateLimited;
  assert(limited >= 36 && limited <= 40, `${limited} limited of 80 (20 + 20 admitted)`);
});

Deno.test("listen refuses a budget that is not a positive number, naming it", () => {
  for (const name of ["ipRatePerSecond", "cookieBurst"] as const) {
    assertThrows(() => RendezvousServer.listen({ ...LOCAL, [name]: 0 }), RangeError, name);
  }
  assertThrows(
    () => RendezvousServer.listen({ ...LOCAL, cookieSecret: new Uint8Array(8) }),
    RangeError,
    "cookie secret",
  );
});

Deno.test("a client pays one cookie round trip: its first observe has none, every later request echoes it", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  const { senderPort, receiverPort } = await pairThrough(server, timeout.signal);
  assertEquals(server.stats().cookies, 2); // one per client, on loopback no NAT in between
  for (const port of [senderPort, receiverPort]) {
    const [first, ...later] = port.sent.map((data) => decodeMessage(data));
    assertEquals([first.type, "cookie" in first], ["observe", false]);
    assert(later.length >= 3, `${later.length} requests after the first`);
    for (const message of later) assert("cookie" in message && message.cookie?.length === 16);
  }
});
