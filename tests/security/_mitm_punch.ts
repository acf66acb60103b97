/**
 * The attacker's two punches (peer/PROTOCOL.md, "Punching"): as the sender
 * toward the real receiver (answering chosen-ack with the attacker's
 * certificate), and as the receiver toward the real sender (learning its
 * real certificate).
 */
import type { Intercepted } from "./_lying_rendezvous.ts";
import {
  ACK,
  CHOSEN,
  CHOSEN_ACK,
  decodeProbe,
  encodeProbe,
  PROBE,
  sameBytes,
} from "./_probe_wire.ts";

const PROBE_INTERVAL_MS = 100;
/** How long a chosen side keeps answering before it binds QUIC on the port (as the real sender). */
const LINGER_MS = 250;

/** Answers the receiver's probes as the sender; returns the port it chose. */
export async function punchAsSender(
  socket: Deno.DatagramConn,
  pairing: Intercepted,
  ourCertificate: Uint8Array,
  signal: AbortSignal,
): Promise<number> {
  const port = (socket.addr as Deno.NetAddr).port;
  const say = (type: number, nonce: number, to: Deno.NetAddr, certificate?: Uint8Array) =>
    socket.send(
      encodeProbe({ type, token: pairing.token, from: pairing.sender.id, nonce, certificate }),
      to,
    ).catch(() => {});
  let nonce = 1;
  const prober = setInterval(() => say(PROBE, nonce++, pairing.receiver.addr), PROBE_INTERVAL_MS);
  let linger: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => socket.close();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      let data: Uint8Array, from: Deno.NetAddr;
      try {
        [data, from] = (await socket.receive()) as [Uint8Array, Deno.NetAddr];
      } catch {
        signal.throwIfAborted();
        return port; // closed after lingering: QUIC binds the port next
      }
      const probe = decodeProbe(data);
      if (!probe || !valid(probe, pairing, pairing.receiver.id)) continue;
      if (probe.type === PROBE) await say(ACK, probe.nonce, from);
      if (probe.type === CHOSEN) {
        await say(CHOSEN_ACK, probe.nonce, from, ourCertificate);
        clearInterval(prober);
        linger ??= setTimeout(() => socket.close(), LINGER_MS);
      }
    }
  } finally {
    clearInterval(prober);
    signal.removeEventListener("abort", onAbort);
  }
}

/** Punches with the sender as the receiver; returns the port and the sender's certificate. */
export async function punchAsReceiver(
  socket: Deno.DatagramConn,
  pairing: Intercepted,
  signal: AbortSignal,
): Promise<{ port: number; certificate: Uint8Array }> {
  const port = (socket.addr as Deno.NetAddr).port;
  const say = (type: number, nonce: number, to: Deno.NetAddr) =>
    socket.send(encodeProbe({ type, token: pairing.token, from: pairing.receiver.id, nonce }), to)
      .catch(() => {});
  let nonce = 1;
  let chosen = false;
  const ticker = setInterval(
    () => say(chosen ? CHOSEN : PROBE, nonce++, pairing.sender.addr),
    PROBE_INTERVAL_MS,
  );
  const onAbort = () => socket.close();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      const [data, from] = (await socket.receive()) as [Uint8Array, Deno.NetAddr];
      const probe = decodeProbe(data);
      if (!probe || !valid(probe, pairing, pairing.sender.id)) continue;
      if (probe.type === PROBE) await say(ACK, probe.nonce, from);
      if (probe.type === ACK && !chosen) {
        chosen = true;
        await say(CHOSEN, nonce++, pairing.sender.addr);
      }
      if (probe.type === CHOSEN_ACK && probe.certificate) {
        socket.close();
        return { port, certificate: probe.certificate };
      }
    }
  } catch (error) {
    signal.throwIfAborted();
    throw error;
  } finally {
    clearInterval(ticker);
    signal.removeEventListener("abort", onAbort);
  }
}

function valid(
  probe: { token: Uint8Array; from: Uint8Array },
  pairing: Intercepted,
  from: Uint8Array,
) {
  return sameBytes(probe.token, pairing.token) && sameBytes(probe.from, from);
}
