/** Socket helpers for this folder's tests: 127.0.0.1 and port 0 only. */
import { type Pairing, register, type RegisterOptions, relayHello } from "../client/mod.ts";
import { UdpDatagramPort } from "./udp_port.ts";
import type { RendezvousServer } from "../server/mod.ts";
import { addr, bytes } from "./samples.ts";
import { decodeMessage, encodeMessage, MAX_REPLY_SIZE } from "../wire/mod.ts";
import { deadline as limitedTo, RendezvousError } from "../../base/mod.ts";
import { assertRejects } from "./assert.ts";

/** An AbortSignal that fires after `ms`, with a timer cleared on dispose (sanitizer-friendly). */
export function deadline(ms: number): { signal: AbortSignal } & Disposable {
  return limitedTo({ timeoutMs: ms, message: `test deadline of ${ms} ms passed` });
}

/**
 * Waits until `done()` holds (a server counter, which has no event to wait on), however slow this
 * machine is; `signal` (the test's deadline) bounds the wait.
 */
export async function until(done: () => boolean, signal: AbortSignal): Promise<void> {
  while (!done()) {
    signal.throwIfAborted();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Sends `data` from `conn` to `to` and waits for one datagram back, or undefined after `ms`. */
export async function exchange(
  conn: Deno.DatagramConn,
  data: Uint8Array,
  to: Deno.NetAddr,
  ms = 2000,
): Promise<Uint8Array | undefined> {
  await conn.send(data, to);
  let id: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) =>
    id = setTimeout(() => resolve(undefined), ms)
  );
  try {
    const received = conn.receive().then(([bytes]) => bytes);
    const result = await Promise.race([received, timeout]);
    if (result === undefined) {
      // A Deno receive cannot be cancelled: the caller must close conn, which settles it.
      received.catch(() => {});
    }
    return result;
  } finally {
    clearTimeout(id);
  }
}

/**
 * The server's cookie for `conn`'s address: the answer to a first `observe`
 * (good on every port of the server).
 */
export async function cookieFor(
  conn: Deno.DatagramConn,
  server: Deno.NetAddr,
): Promise<Uint8Array> {
  const observe = encodeMessage({ type: "observe", clientId: bytes(16, 0xc0) }, {
    padTo: MAX_REPLY_SIZE,
  });
  const reply = await exchange(conn, observe, server);
  if (reply === undefined) throw new Error(`No cookie from ${server.hostname}:${server.port}`);
  const message = decodeMessage(reply);
  if (message.type !== "cookie") throw new Error(`Expected a cookie, got ${message.type}`);
  return message.cookie;
}

export interface PairResult {
  sender: Pairing;
  receiver: Pairing;
  senderPort: UdpDatagramPort;
  receiverPort: UdpDatagramPort;
  announced: string[];
}

/** Runs an honest sender and receiver against `server` and returns both pairings. */
export async function pairThrough(
  server: RendezvousServer,
  signal: AbortSignal,
  extra: Partial<RegisterOptions> = {},
): Promise<PairResult> {
  await using senderPort = new UdpDatagramPort();
  await using receiverPort = new UdpDatagramPort();
  const stop = new AbortController();
  const both = AbortSignal.any([signal, stop.signal]);
  const announced: string[] = [];
  const { promise: nameplate, resolve } = Promise.withResolvers<string>();
  const senderDone = register(senderPort, {
    server: server.addr,
    role: "send",
    candidates: [addr("192.168.1.10", 40000), senderPort.addr],
    fingerprint: bytes(32, 0xaa),
    signal: both,
    ...extra,
    onNameplate: (plate) => {
      announced.push(plate);
      resolve(plate);
    },
  });
  let receiverDone: Promise<Pairing> | undefined;
  try {
    // If the sender fails before announcing, surface its error instead of hanging.
    const plate = await Promise.race([nameplate, senderDone.then(() => nameplate)]);
    receiverDone = register(receiverPort, {
      server: server.addr,
      role: "receive",
      nameplate: plate,
      candidates: [receiverPort.addr],
      fingerprint: bytes(32, 0xbb),
      signal: both,
    });
    const [sender, receiver] = await Promise.all([senderDone, receiverDone]);
    return { sender, receiver, senderPort, receiverPort, announced };
  } catch (error) {
    stop.abort(error);
    await Promise.allSettled([senderDone, receiverDone]);
    throw error;
  }
}

/** A UDP socket on 127.0.0.1, port 0, closed on dispose. */
export function udpSocket(port = 0): Deno.DatagramConn & Disposable {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port });
  return Object.assign(conn, {
    [Symbol.dispose]() {
      try {
        conn.close();
      } catch {
        // already closed
      }
    },
  });
}

/** The next non-rendezvous datagram at `port`, or undefined after `ms`. */
export async function nextOther(
  port: UdpDatagramPort,
  ms: number,
): Promise<{ data: Uint8Array; from: Deno.NetAddr } | undefined> {
  using timer = deadline(ms);
  try {
    return await port.receiveOther(timer.signal);
  } catch (error) {
    if (timer.signal.aborted) return undefined;
    throw error;
  }
}

export interface RelayedPair extends AsyncDisposable {
  a: UdpDatagramPort;
  b: UdpDatagramPort;
  pa: Pairing;
  pb: Pairing;
}

/** Two peers (ports keeping non-rendezvous datagrams) pair through `server`, then say hello to its relay. */
export async function relayedPair(
  server: RendezvousServer,
  signal: AbortSignal,
): Promise<RelayedPair> {
  const a = new UdpDatagramPort("127.0.0.1", { keepOther: true });
  const b = new UdpDatagramPort("127.0.0.1", { keepOther: true });
  const close = async () => {
    await a.close();
    await b.close();
  };
  try {
    const plate = Promise.withResolvers<string>();
    const sending = register(a, {
      server: server.addr,
      role: "send",
      candidates: [],
      onNameplate: plate.resolve,
      signal,
    });
    const nameplate = await Promise.race([plate.promise, sending.then(() => plate.promise)]);
    const [pa, pb] = await Promise.all([
      sending,
      register(b, { server: server.addr, role: "receive", nameplate, candidates: [], signal }),
    ]);
    const relay = pa.relay!;
    await Promise.all([
      relayHello(a, { relay, token: pa.token, selfId: pa.selfId, signal }),
      relayHello(b, { relay, token: pb.token, selfId: pb.selfId, signal }),
    ]);
    return { a, b, pa, pb, [Symbol.asyncDispose]: close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * A fresh client registering with `server` as `role` (on `nameplate`, if
 * given) is refused with a RendezvousError whose message includes `message`.
 */
export async function assertRegisterRefused(
  server: Deno.NetAddr,
  options: { role: "send" | "receive"; nameplate?: string; signal: AbortSignal },
  message: string,
): Promise<void> {
  await using port = new UdpDatagramPort();
  await assertRejects(
    () => register(port, { server, candidates: [], ...options }),
    RendezvousError,
    message,
  );
}

/** A sender registering over UDP on `nameplate` of `server`: its pairing. */
export function joinAsSender(
  server: Deno.NetAddr,
  nameplate: string,
  signal: AbortSignal,
): Promise<Pairing> {
  return join("send", { server, nameplate, signal });
}

/** A receiver registering over UDP on `nameplate` of `server`: its pairing. */
export function joinAsReceiver(
  server: Deno.NetAddr,
  nameplate: string,
  signal: AbortSignal,
): Promise<Pairing> {
  return join("receive", { server, nameplate, signal });
}

async function join(
  role: "send" | "receive",
  options: { server: Deno.NetAddr; nameplate: string; signal: AbortSignal },
): Promise<Pairing> {
  await using port = new UdpDatagramPort();
  return await register(port, { ...options, role, candidates: [] });
}
