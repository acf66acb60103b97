/** Helpers for the TLS link's tests: linked pairs (LAN, relay splice), a TCP splice as relay. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { pipeConn, writeAll } from "../../base/mod.ts";
import type { ByteStream } from "../../transfer/mod.ts";
import { certificatePem, createPeerCertificate, type PeerCertificate } from "../cert/mod.ts";
import type { PeerLink } from "../link/mod.ts";
import {
  dialTlsPeer,
  listenTlsPeer,
  listenTlsPeerNoDelay,
  type RelayDial,
  relayTlsReceiver,
  relayTlsSender,
  type TlsPeerListener,
} from "./tls_link.ts";

/** Test name suffix for the sender's listener: `Deno.listenTls`, or node:tls with Nagle off. */
export function serverNote(noDelay: boolean): string {
  return noDelay ? " (node:tls server, Nagle off)" : "";
}

/** The sender's listener of either kind. */
export function listenerOf(noDelay: boolean) {
  return noDelay ? listenTlsPeerNoDelay : listenTlsPeer;
}

export interface LanPair extends AsyncDisposable {
  certificate: PeerCertificate;
  listener: TlsPeerListener;
  sender: PeerLink;
  receiver: PeerLink;
}

/**
 * A sender listening on port 0 and a receiver linked to it from `address`
 * (default 127.0.0.1); the listener binds `listen` (default `address`,
 * undefined for its own default: every interface, both families), with node:tls and Nagle off
 * when `noDelay` (announcing `firstStreams`, default 5).
 */
export async function lanPair(
  signal: AbortSignal,
  options: {
    address?: string;
    listen?: string | undefined;
    noDelay?: boolean;
    firstStreams?: number;
  } = {},
): Promise<LanPair> {
  const address = options.address ?? "127.0.0.1";
  const certificate = await createPeerCertificate();
  const listener = await listenerOf(options.noDelay ?? false)(0, {
    certificate,
    hostname: "listen" in options ? options.listen : address,
    expectedRemoteIp: address,
    firstStreams: options.firstStreams,
    signal,
  });
  const [sender, receiver] = await Promise.all([
    listener.accept({ signal }),
    dialTlsPeer({ transport: "tcp", hostname: address, port: listener.port }, {
      peerCertificatePem: certificatePem(certificate.der),
      signal,
    }),
  ]);
  return {
    certificate,
    listener,
    sender,
    receiver,
    async [Symbol.asyncDispose]() {
      await Promise.all([sender.close({ failed: false, message: "done" }), receiver.closed]);
      await listener[Symbol.asyncDispose]();
    },
  };
}

/** A plain TLS listener on 127.0.0.1 port 0 that presents `certificate`. */
export function listenTlsOn(certificate: PeerCertificate): Deno.TlsListener {
  return Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: certificate.certPem,
    key: certificate.keyPem,
  });
}

export interface RelayPair extends AsyncDisposable {
  sender: PeerLink;
  receiver: PeerLink;
}

/**
 * A sender and a receiver linked through a relay splice. Dispose ends the
 * link cleanly and checks the receiver heard the sender's "done".
 */
export async function relayPair(signal: AbortSignal): Promise<RelayPair> {
  const relay = spliceServer();
  try {
    const certificate = await createPeerCertificate();
    const [sender, receiver] = await Promise.all([
      relayTlsSender(relay.dial("room"), { certificate, signal }),
      relayTlsReceiver(relay.dial("room"), { peerFingerprint: certificate.fingerprint, signal }),
    ]);
    return {
      sender,
      receiver,
      async [Symbol.asyncDispose]() {
        try {
          await sender.close({ failed: false, message: "done" });
          assert.deepEqual(await receiver.closed, { failed: false, message: "done" });
        } finally {
          await relay[Symbol.asyncDispose]();
        }
      },
    };
  } catch (error) {
    await relay[Symbol.asyncDispose]();
    throw error;
  }
}

/** Writes `bytes` in 64 KiB chunks and closes; reads everything back: SHA-256 hex of what came. */
export async function pump(
  from: ByteStream,
  to: ByteStream,
  bytes: Uint8Array,
): Promise<{ sent: string; received: string }> {
  const writing = (async () => {
    const writer = from.writable.getWriter();
    for (let offset = 0; offset < bytes.length; offset += 65_536) {
      await writer.write(bytes.slice(offset, offset + 65_536));
    }
    await writer.close();
  })();
  const hash = createHash("sha256");
  for await (const chunk of to.readable) hash.update(chunk);
  await writing;
  await from.readable.cancel();
  await to.writable.close();
  return {
    sent: createHash("sha256").update(bytes).digest("hex"),
    received: hash.digest("hex"),
  };
}

/**
 * A real TCP splice server like the relay: connections say `token channel\n`,
 * two with the same line are piped to each other both ways.
 */
export function spliceServer(): {
  port: number;
  dial: (token: string) => RelayDial;
} & AsyncDisposable {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const waiting = new Map<string, Deno.Conn>();
  const splices: Promise<unknown>[] = [];
  const conns = new Set<Deno.Conn>();
  const accepting = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      const line = await readLine(conn);
      const other = waiting.get(line);
      if (!other) {
        waiting.set(line, conn);
        continue;
      }
      waiting.delete(line);
      // Each side learns it was spliced only when its first byte ("+") arrives.
      await conn.write(new TextEncoder().encode("+"));
      await other.write(new TextEncoder().encode("+"));
      splices.push(pipe(conn, other), pipe(other, conn));
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    dial: (token) => async (channel, signal, connect) => {
      const conn = await connect(listener.addr as Deno.NetAddr, signal);
      await writeAll(conn, new TextEncoder().encode(`${token} ${channel}\n`));
      const ack = new Uint8Array(1);
      if (await conn.read(ack) !== 1) throw new Error(`splice refused channel ${channel}`);
      return conn;
    },
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting;
      await closePiped(conns, splices);
    },
  };
}

/** Closes the connections a test server piped to each other, then waits for its pipes to end. */
export async function closePiped(
  conns: Iterable<Deno.Conn>,
  pipes: Promise<unknown>[],
): Promise<void> {
  for (const conn of conns) {
    try {
      conn.close();
    } catch {
      // Closed by its pipe.
    }
  }
  await Promise.allSettled(pipes);
}

async function pipe(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  // One side went away: the other is closed by dispose.
  await pipeConn(from, to).catch(() => {});
}

async function readLine(conn: Deno.Conn): Promise<string> {
  const bytes: number[] = [];
  const one = new Uint8Array(1);
  while (await conn.read(one) === 1 && one[0] !== 0x0a) bytes.push(one[0]);
  return new TextDecoder().decode(new Uint8Array(bytes));
}
