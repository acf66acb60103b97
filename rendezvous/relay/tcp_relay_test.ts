import { createHash } from "node:crypto";
import { ConnectionLostError, RendezvousError, writeAll } from "../../base/mod.ts";
import { askTcpRelay, dialTcpRelay, type Pairing } from "../client/mod.ts";
import { RendezvousServer, type ServeOptions } from "../server/mod.ts";
import {
  assert,
  assertEquals,
  assertRejects,
  bytes,
  deadline,
  pairThrough,
  until,
} from "../testing/mod.ts";

const LOCAL = { hostname: "127.0.0.1", port: 0 };

interface Relayed extends AsyncDisposable {
  server: RendezvousServer;
  sender: Pairing;
  receiver: Pairing;
  relay: Deno.NetAddr;
}

/** A server with `options`, and a pair of peers paired through it (over UDP: the relay does not care). */
async function relayedPairing(options: ServeOptions, signal: AbortSignal): Promise<Relayed> {
  const server = RendezvousServer.listen({ ...LOCAL, ...options });
  try {
    const { sender, receiver } = await pairThrough(server, signal);
    return {
      server,
      sender,
      receiver,
      relay: { transport: "tcp", hostname: "127.0.0.1", port: server.relayAddr!.port },
      [Symbol.asyncDispose]: () => server.close(),
    };
  } catch (error) {
    await server.close();
    throw error;
  }
}

function dial(pairing: Pairing, relay: Deno.NetAddr, channel: number, signal: AbortSignal) {
  return dialTcpRelay(relay, { token: pairing.token, selfId: pairing.selfId, channel, signal });
}

/** Both peers dial `channel`; resolves with [sender's conn, receiver's conn]. */
function dialBoth(pair: Relayed, channel: number, signal: AbortSignal) {
  return Promise.all([
    dial(pair.sender, pair.relay, channel, signal),
    dial(pair.receiver, pair.relay, channel, signal),
  ]);
}

async function readAll(conn: Deno.TcpConn): Promise<{ sha256: string; length: number }> {
  const hash = createHash("sha256");
  const buffer = new Uint8Array(65536);
  let length = 0;
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) return { sha256: hash.digest("hex"), length };
    hash.update(buffer.subarray(0, n));
    length += n;
  }
}

async function sendAll(conn: Deno.TcpConn, data: Uint8Array): Promise<void> {
  await writeAll(conn, data);
  await conn.closeWrite();
}

function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

Deno.test("two peers meet on the TCP relay and bytes flow both ways unchanged", async () => {
  using timeout = deadline(15_000);
  await using pair = await relayedPairing({}, timeout.signal);
  const [a, b] = await dialBoth(pair, 0, timeout.signal);
  try {
    const there = randomBytes(3 * 2 ** 20 + 17);
    const back = randomBytes(2 * 2 ** 20 + 5);
    const [atB, atA] = await Promise.all([
      readAll(b),
      readAll(a),
      sendAll(a, there),
      sendAll(b, back),
    ]);
    assertEquals(atB, { sha256: sha256(there), length: there.length });
    assertEquals(atA, { sha256: sha256(back), length: back.length });
    const stats = pair.server.stats();
    assertEquals(
      [stats.tcpRelaySessions, stats.tcpRelayedBytes],
      [1, there.length + back.length],
    );
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("closing one side of a TCP relay channel ends the other at once", async () => {
  using timeout = deadline(5000);
  await using pair = await relayedPairing({}, timeout.signal);
  const [a, b] = await dialBoth(pair, 7, timeout.signal);
  a.close();
  // b sees the end without sending anything; then the relay drops the channel.
  assertEquals(await b.read(new Uint8Array(16)), null);
  b.close();
});

Deno.test("the TCP relay refuses a wrong token, a stranger's id and a second hello for a taken channel", async () => {
  using timeout = deadline(5000);
  await using pair = await relayedPairing({}, timeout.signal);
  const { relay, sender } = pair;
  const signal = timeout.signal;
  await assertRejects(
    () => dialTcpRelay(relay, { token: bytes(16, 1), selfId: sender.selfId, channel: 0, signal }),
    RendezvousError,
    `The relay on 127.0.0.1:${relay.port} does not know this pairing`,
  );
  await assertRejects(
    () => dialTcpRelay(relay, { token: sender.token, selfId: bytes(16, 3), channel: 0, signal }),
    RendezvousError,
    "does not know this pairing",
  );
  // Two hellos from the sender for one channel: whichever the relay reads second is refused.
  const hellos = [dial(sender, relay, 1, signal), dial(sender, relay, 1, signal)];
  const first = await Promise.race(
    hellos.map((hello, index) => hello.then(() => index, () => index)),
  );
  const refused = await hellos[first].catch((error) => error);
  assert(refused instanceof RendezvousError, String(refused));
  assert(refused.message.includes("too many channels"), refused.message);
  const [a, b] = await Promise.all([hellos[1 - first], dial(pair.receiver, relay, 1, signal)]);
  a.close();
  b.close();
  assertEquals(pair.server.stats().tcpRelaySessions, 1);
});

Deno.test("a hello whose peer never comes is closed after the wait", async () => {
  using timeout = deadline(5000);
  await using pair = await relayedPairing({ relayPeerWaitMs: 200 }, timeout.signal);
  await assertRejects(
    () => dial(pair.sender, pair.relay, 0, timeout.signal),
    ConnectionLostError,
    "before relay-ready (the other peer did not connect in time",
  );
  assertEquals(pair.server.stats().tcpRelayChannels, 0);
});

Deno.test("the TCP relay caps channels per room and sessions in all", async () => {
  using timeout = deadline(8000);
  await using pair = await relayedPairing(
    { relayMaxChannels: 2, relayMaxSessions: 1 },
    timeout.signal,
  );
  const conns = [
    ...await dialBoth(pair, 0, timeout.signal),
    ...await dialBoth(pair, 1, timeout.signal),
  ];
  try {
    await assertRejects(
      () => dial(pair.sender, pair.relay, 2, timeout.signal),
      RendezvousError,
      "too many channels",
    );
    const { sender: other } = await pairThrough(pair.server, timeout.signal);
    await assertRejects(
      () => dial(other, pair.relay, 0, timeout.signal),
      RendezvousError,
      "is full",
    );
  } finally {
    for (const conn of conns) conn.close();
  }
});

Deno.test("an idle TCP relay session ends, closing its channels, and later hellos are refused", async () => {
  using timeout = deadline(5000);
  await using pair = await relayedPairing({ relayIdleTimeoutMs: 300 }, timeout.signal);
  const [a, b] = await dialBoth(pair, 0, timeout.signal);
  assertEquals(await a.read(new Uint8Array(1)), null);
  assertEquals(await b.read(new Uint8Array(1)), null);
  a.close();
  b.close();
  await assertRejects(
    () => dial(pair.sender, pair.relay, 1, timeout.signal),
    RendezvousError,
    "session on 127.0.0.1",
  );
});

Deno.test("the TCP relay ends a session at its byte cap", async () => {
  using timeout = deadline(5000);
  await using pair = await relayedPairing({ relayMaxBytes: 100_000 }, timeout.signal);
  const [a, b] = await dialBoth(pair, 0, timeout.signal);
  try {
    const [received] = await Promise.all([
      readAll(b),
      writeAll(a, randomBytes(300_000)).catch(() => {}),
    ]);
    assert(received.length <= 100_000, `${received.length} bytes passed the cap`);
    assertEquals(pair.server.stats().tcpRelaySessions, 0);
    // Both peers can ask why, and a new channel is refused with the same reason.
    const why = "allows 97.7 KiB per transfer (its operator's cap): run send again to resume";
    for (const peer of [pair.sender, pair.receiver]) {
      const verdict = await askTcpRelay(pair.relay, { ...peer, timeoutMs: 2000 });
      assertEquals(verdict.kind, "ended");
      assert(verdict.kind === "ended" && verdict.message.endsWith(why), JSON.stringify(verdict));
    }
    await assertRejects(
      () => dial(pair.sender, pair.relay, 1, timeout.signal),
      RendezvousError,
      why,
    );
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("askTcpRelay: a live session is up, a closed relay port has stopped", async () => {
  using timeout = deadline(8000);
  const pair = await relayedPairing({}, timeout.signal);
  const ask = () => askTcpRelay(pair.relay, { ...pair.sender, timeoutMs: 300 });
  try {
    const [a, b] = await dialBoth(pair, 0, timeout.signal);
    assertEquals(await ask(), { kind: "up" });
    a.close();
    b.close();
  } finally {
    await pair[Symbol.asyncDispose]();
  }
  assertEquals(await ask(), { kind: "stopped" });
});

Deno.test("the TCP relay holds a session to its rate by pausing reads", async () => {
  using timeout = deadline(8000);
  await using pair = await relayedPairing(
    { relayBytesPerSecond: 1_000_000, relayBurstBytes: 65_536 },
    timeout.signal,
  );
  const [a, b] = await dialBoth(pair, 0, timeout.signal);
  try {
    const data = randomBytes(600_000);
    const started = performance.now();
    const [received] = await Promise.all([readAll(b), sendAll(a, data)]);
    const seconds = (performance.now() - started) / 1000;
    assertEquals(received, { sha256: sha256(data), length: data.length });
    // All but the burst (and the last read, admitted before its pause) waits for tokens.
    const floor = (data.length - 65_536 - 64 * 1024) / 1_000_000;
    assert(seconds >= floor, `600 kB passed in ${seconds} s, under the ${floor} s the rate allows`);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("with relay: false the server binds no relay port, UDP or TCP", async () => {
  await using server = RendezvousServer.listen({ ...LOCAL, relay: false });
  assertEquals([server.relayAddr, server.tcp], [undefined, true]);
  const stats = server.stats();
  assertEquals([stats.tcpRelaySessions, stats.tcpRelayChannels], [0, 0]);
});

Deno.test("dialTcpRelay stops waiting for the other peer when its signal aborts", async () => {
  using timeout = deadline(5000);
  await using pair = await relayedPairing({}, timeout.signal);
  const stop = new AbortController();
  const waiting = dial(pair.sender, pair.relay, 0, stop.signal);
  const reason = new Error("the user gave up");
  // Once the relay holds its channel, the dialer waits for the other peer: abort then.
  await until(() => pair.server.stats().tcpRelayChannels === 1, timeout.signal);
  stop.abort(reason);
  assertEquals(await waiting.catch((error) => error), reason);
});
