import { createHash } from "node:crypto";
import { ConnectionLostError, RendezvousError } from "../errors.ts";
import type { Pairing } from "./client.ts";
import { dialTcpRelay } from "./dial_tcp_relay.ts";
import { RendezvousServer } from "./server.ts";
import type { ServeOptions } from "./_serve_options.ts";
import { writeAll } from "./_tcp_frame.ts";
import { bytes } from "./_samples.ts";
import { assert, assertEquals, assertRejects } from "./_testing.ts";
import { deadline, pairThrough } from "./_testing_net.ts";

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
