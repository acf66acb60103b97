import { equalBytes, RendezvousError } from "../../base/mod.ts";
import { askTcpRelay, relayHello } from "../client/mod.ts";
import { decodeMessage, encodeMessage, MAX_REPLY_SIZE } from "../wire/mod.ts";
import { RendezvousServer } from "../server/mod.ts";
import {
  assert,
  assertEquals,
  assertRejects,
  bytes,
  deadline,
  exchange,
  relayedPair,
  UdpDatagramPort,
  udpSocket,
  until,
} from "../testing/mod.ts";

const LOCAL = { hostname: "127.0.0.1", port: 0 };

function random(length: number, first?: number[]): Uint8Array {
  const data = crypto.getRandomValues(new Uint8Array(length));
  if (first) data.set(first);
  return data;
}

/**
 * The non-rendezvous datagrams that reach `port` ahead of `marker`. A marker sent through the relay
 * after some datagrams reaches `port` after anything the relay forwarded of them (one path, in
 * order), so its arrival, not a quiet period, says that nothing more is coming.
 */
async function before(
  port: UdpDatagramPort,
  marker: Uint8Array,
  signal: AbortSignal,
): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (;;) {
    const { data } = await port.receiveOther(signal);
    if (equalBytes(data, marker)) return out;
    out.push(data);
  }
}

/** Peer A says relay-hello again with the pairing it already has. */
function helloAgain(
  pair: { a: UdpDatagramPort; pa: { relay?: Deno.NetAddr; token: Uint8Array; selfId: Uint8Array } },
  signal: AbortSignal,
): Promise<void> {
  const { relay, token, selfId } = pair.pa;
  return relayHello(pair.a, { relay: relay!, token, selfId, signal });
}

/** A datagram already queued (taken without waiting), or undefined. */
async function queuedNow<T>(receive: (signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
  const controller = new AbortController();
  const taken = receive(controller.signal);
  controller.abort();
  return await taken.catch(() => undefined);
}

Deno.test("two peers say hello and the relay carries their datagrams both ways byte for byte", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  await using pair = await relayedPair(server, timeout.signal);
  const { a, b } = pair;
  const relay = server.relayAddr!;
  const sizes = [1, 1200, 1350, 1452, 8000];
  for (const size of sizes) {
    const there = random(size, size >= 4 ? [0x50, 0x32, 0x50, 0x42] : undefined); // P2PB probes too
    await a.send(there, relay);
    const atB = await b.receiveOther(timeout.signal);
    assertEquals(atB?.data, there);
    assertEquals([atB?.from.hostname, atB?.from.port], [relay.hostname, relay.port]);
    const back = random(size);
    await b.send(back, relay);
    assertEquals((await a.receiveOther(timeout.signal)).data, back);
  }
  const total = 2 * sizes.reduce((sum, size) => sum + size, 0);
  const stats = server.stats();
  assertEquals([stats.relaySessions, stats.relayedBytes, stats.relayDropped], [1, total, 0]);
  // Every relay reply was no longer than the smallest request answered (no amplification;
  // the `leave` each peer sends once paired gets no answer).
  const requests = [...a.sentSizes, ...b.sentSizes].filter((size) => size >= MAX_REPLY_SIZE);
  const replies = [...a.receivedSizes, ...b.receivedSizes];
  assert(Math.max(...replies) <= Math.min(...requests), `${replies} vs ${requests}`);
});

Deno.test("the relay forwards nothing from an address that did not say hello, and reflects nothing", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  await using pair = await relayedPair(server, timeout.signal);
  await using stranger = new UdpDatagramPort("127.0.0.1", { keepOther: true });
  const relay = server.relayAddr!;
  for (let i = 0; i < 5; i++) await stranger.send(random(1000), relay);
  const [toA, toB] = [random(64), random(64)];
  await pair.b.send(toA, relay);
  await pair.a.send(toB, relay);
  assertEquals(await before(pair.a, toA, timeout.signal), []);
  assertEquals(await before(pair.b, toB, timeout.signal), []);
  assertEquals(server.stats().relayDropped, 5);
  // The refusal of a hello sent after the junk comes after anything reflected of it.
  await assertRejects(
    () =>
      relayHello(stranger, {
        relay,
        token: bytes(16, 9),
        selfId: bytes(16, 8),
        signal: timeout.signal,
      }),
    RendezvousError,
  );
  assertEquals(await queuedNow((signal) => stranger.receiveOther(signal)), undefined);
});

Deno.test("the relay handles P2RV datagrams from a peer and never forwards them", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  await using pair = await relayedPair(server, timeout.signal);
  const relay = server.relayAddr!;
  const junk = new TextEncoder().encode("P2RV\x02\x99 not for the peer");
  const reply = encodeMessage({ type: "relay-ready", clientId: pair.pb.selfId }, { padTo: 300 });
  await pair.a.send(junk, relay);
  await pair.a.send(reply, relay);
  const data = random(100);
  await pair.a.send(data, relay);
  // What the relay forwarded of the P2RV datagrams sent first would have reached B before the data.
  assertEquals(await before(pair.b, data, timeout.signal), []);
  assertEquals(await queuedNow((signal) => pair.b.receive(signal)), undefined);
  assertEquals(server.stats().malformed, 2);
});

Deno.test("relayHello with a token the server did not give out is refused", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  await using port = new UdpDatagramPort();
  await assertRejects(
    () =>
      relayHello(port, {
        relay: server.relayAddr!,
        token: bytes(16, 1),
        selfId: bytes(16, 2),
        signal: timeout.signal,
      }),
    RendezvousError,
    `The relay on 127.0.0.1:${server.relayAddr!.port} does not know this pairing`,
  );
});

Deno.test("relayHello with the right token but a stranger's client id is refused", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  await using pair = await relayedPair(server, timeout.signal);
  await using port = new UdpDatagramPort();
  await assertRejects(
    () =>
      relayHello(port, {
        relay: server.relayAddr!,
        token: pair.pa.token,
        selfId: bytes(16, 3),
        signal: timeout.signal,
      }),
    RendezvousError,
    "does not know this pairing",
  );
});

Deno.test("relayHello to a server without a relay is refused", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen({ ...LOCAL, relay: false });
  await using port = new UdpDatagramPort();
  await assertRejects(
    () =>
      relayHello(port, {
        relay: server.addr,
        token: bytes(16, 1),
        selfId: bytes(16, 2),
        signal: timeout.signal,
      }),
    RendezvousError,
    "does not relay",
  );
});

Deno.test("a full relay refuses a new session", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen({ ...LOCAL, relayMaxSessions: 1 });
  await using first = await relayedPair(server, timeout.signal);
  await assertRejects(() => relayedPair(server, timeout.signal), RendezvousError, "is full");
  assertEquals(server.stats().relaySessions, 1);
  assert(first.pa.relay !== undefined);
});

Deno.test("a relay session ends at its byte limit", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen({ ...LOCAL, relayMaxBytes: 5000 });
  await using pair = await relayedPair(server, timeout.signal);
  for (let i = 0; i < 10; i++) await pair.a.send(random(1000), server.relayAddr!);
  await until(() => server.stats().relayDropped === 5, timeout.signal);
  for (let i = 0; i < 5; i++) await pair.b.receiveOther(timeout.signal);
  const stats = server.stats();
  assertEquals([stats.relaySessions, stats.relayedBytes, stats.relayDropped], [0, 5000, 5]);
  await assertRejects(
    () => helloAgain(pair, timeout.signal),
    RendezvousError,
    "allows 4.9 KiB per transfer (its operator's cap): run send again to resume",
  );
  // The TCP relay answers for it too: a peer whose QUIC link broke asks there why.
  const relay: Deno.NetAddr = { ...pair.pa.relay!, transport: "tcp" };
  for (const peer of [pair.pa, pair.pb]) {
    const verdict = await askTcpRelay(relay, { ...peer, timeoutMs: 2000 });
    assertEquals(verdict.kind, "ended");
  }
});

Deno.test("an idle relay session ends, and with it the room and its token", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen({
    ...LOCAL,
    relayIdleTimeoutMs: 300,
    pairedLingerMs: 400, // longer than the sender's 300 ms poll, which must still find its room
  });
  await using pair = await relayedPair(server, timeout.signal);
  await until(() => server.stats().relaySessions + server.stats().rooms === 0, timeout.signal);
  await pair.a.send(random(100), server.relayAddr!);
  await until(() => server.stats().relayDropped === 1, timeout.signal);
  const stats = server.stats();
  assertEquals([stats.relaySessions, stats.rooms, stats.relayedBytes], [0, 0, 0]);
  await assertRejects(
    () => helloAgain(pair, timeout.signal),
    RendezvousError,
    "does not know this pairing",
  );
});

Deno.test("traffic keeps a relay session and its room alive past the room's linger", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen({
    ...LOCAL,
    relayIdleTimeoutMs: 300,
    pairedLingerMs: 400,
  });
  await using pair = await relayedPair(server, timeout.signal);
  // Time passing is this test's input (900 ms against an idle timeout of 300 and a linger of 400),
  // not a stand-in for an event.
  for (let i = 0; i < 6; i++) {
    await new Promise((resolve) => setTimeout(resolve, 150));
    await pair.a.send(random(100), server.relayAddr!);
    await pair.b.receiveOther(timeout.signal);
  }
  assertEquals([server.stats().relaySessions, server.stats().rooms], [1, 1]);
  // The token is still good: a retransmitted hello is answered ready.
  await helloAgain(pair, timeout.signal);
});

Deno.test("a burst over the relay's rate is dropped, not queued", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen({
    ...LOCAL,
    relayBytesPerSecond: 10_000,
    relayBurstBytes: 5_000,
  });
  await using pair = await relayedPair(server, timeout.signal);
  const started = performance.now();
  for (let i = 0; i < 50; i++) await pair.a.send(random(1000), server.relayAddr!);
  const handled = () => server.stats().relayDropped + server.stats().relayedBytes / 1000;
  await until(() => handled() === 50, timeout.signal);
  const seconds = (performance.now() - started) / 1000;
  const arrived = server.stats().relayedBytes / 1000;
  // The burst (5) plus what refilled (10 datagrams a second) while the relay handled them.
  assert(arrived >= 5 && arrived <= 5 + 10 * seconds + 1, `${arrived} arrived in ${seconds} s`);
  for (let i = 0; i < arrived; i++) await pair.b.receiveOther(timeout.signal);
});

Deno.test("a peer that says hello from a new address gets the relayed datagrams there", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  await using pair = await relayedPair(server, timeout.signal);
  await using moved = new UdpDatagramPort("127.0.0.1", { keepOther: true });
  const { relay, token, selfId } = pair.pa;
  await relayHello(moved, { relay: relay!, token, selfId, signal: timeout.signal });
  const data = random(500);
  await pair.b.send(data, relay!);
  assertEquals((await moved.receiveOther(timeout.signal)).data, data);
  // Forwarded once, to the new address only; the old address no longer reaches B.
  await pair.a.send(random(10), relay!);
  await until(() => server.stats().relayDropped === 1, timeout.signal);
  assertEquals(server.stats().relayedBytes, data.length);
});

Deno.test("the relay does not answer a hello shorter than MAX_REPLY_SIZE", async () => {
  await using server = RendezvousServer.listen(LOCAL);
  using conn = udpSocket();
  const hello = { type: "relay-hello", token: bytes(16, 1), clientId: bytes(16, 2) } as const;
  // Unanswered: the first reply is the padded hello's, and the short one counts as too small.
  await conn.send(encodeMessage(hello), server.relayAddr!);
  const padded = encodeMessage(hello, { padTo: MAX_REPLY_SIZE });
  const first = await exchange(conn, padded, server.relayAddr!);
  assert(first !== undefined && first.length <= padded.length);
  const { cookie } = decodeMessage(first) as { cookie: Uint8Array };
  const proven = encodeMessage({ ...hello, cookie }, { padTo: MAX_REPLY_SIZE });
  const reply = await exchange(conn, proven, server.relayAddr!);
  assert(reply !== undefined && reply.length <= proven.length);
  assertEquals(decodeMessage(reply), { type: "error", clientId: bytes(16, 2), code: 10 });
  assertEquals([server.stats().tooSmall, server.stats().cookies], [1, 1]);
});
