/**
 * Reads the sender's certificate from its TLS listener without trusting it
 * yet, for a receiver that did not punch (rendezvous over TCP) and so never
 * got it in `chosen-ack`. It is pinned only if its fingerprint is the one the
 * sender announced through the rendezvous server. Deno's own TLS client
 * cannot show the peer's certificate; node:tls can. It is loaded only here (it
 * costs tens of ms of start-up, and most receivers punch).
 */
import { ConnectionLostError, equalBytes, formatAddr, P2pftError } from "../../base/mod.ts";
import { certificateFingerprint, PEER_SERVER_NAME } from "../cert/mod.ts";

type NodeTls = typeof import("node:tls");

let tlsModule: Promise<NodeTls> | undefined;

/**
 * node:tls, loaded once: call it as soon as a fetch may come, so that the load does not use up
 * the LAN attempt's deadline.
 */
export function loadTls(): Promise<NodeTls> {
  tlsModule ??= import("node:tls");
  return tlsModule;
}

/**
 * Resolves with the DER certificate at `remote` once it matches `fingerprint`. `reach` (the
 * receiver's fallback deadline) bounds only the TCP connect: a slow first handshake is not a TCP
 * path that does not work (peer/PROTOCOL.md, "Transport choice").
 */
export async function fetchCertificate(
  remote: Deno.NetAddr,
  fingerprint: Uint8Array,
  signal: AbortSignal,
  reach: AbortSignal = signal,
): Promise<Uint8Array> {
  const tls = await loadTls();
  const where = formatAddr(remote);
  return await new Promise<Uint8Array>((resolve, reject) => {
    if (signal.aborted || reach.aborted) {
      return reject(signal.aborted ? signal.reason : reach.reason);
    }
    const socket = tls.connect({
      host: remote.hostname,
      port: remote.port,
      servername: PEER_SERVER_NAME,
      // Checked below against the announced fingerprint instead.
      rejectUnauthorized: false,
    });
    const finish = (settle: () => void) => {
      signal.removeEventListener("abort", onAbort);
      reach.removeEventListener("abort", onReachAbort);
      socket.destroy();
      settle();
    };
    const onAbort = () => finish(() => reject(signal.reason));
    const onReachAbort = () => finish(() => reject(reach.reason));
    signal.addEventListener("abort", onAbort, { once: true });
    reach.addEventListener("abort", onReachAbort, { once: true });
    socket.once("connect", () => reach.removeEventListener("abort", onReachAbort));
    socket.once("error", (error) =>
      finish(() =>
        reject(
          new ConnectionLostError(`Cannot connect over TLS to ${where}: ${error.message}`, {
            cause: error,
          }),
        )
      ));
    socket.once("secureConnect", () => {
      const raw = socket.getPeerCertificate(true)?.raw;
      const der = raw ? new Uint8Array(raw) : new Uint8Array(0);
      if (der.length > 0 && equalBytes(certificateFingerprint(der), fingerprint)) {
        finish(() => resolve(der));
      } else {
        finish(() =>
          reject(
            new P2pftError(
              `The TLS certificate at ${where} is not the one the sender announced through the rendezvous server`,
            ),
          )
        );
      }
    });
  });
}
