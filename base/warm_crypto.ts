/**
 * Deno 2.9.6's crypto library seeds its random generator on first use: about 30 ms of CPU in one
 * go, whichever call comes first (the first TLS client or server, QUIC endpoint, EC key). Paid on
 * the main thread it delays that call: the receiver's first `startTls`, the sender's first
 * node:tls handshake. An EC `generateKey` runs on a thread of Deno's blocking pool, so starting one
 * when a transfer command starts seeds it there, beside the module loading and the rendezvous
 * server's answers, and the main thread's first TLS call later finds it done (measured: 31-47 ms
 * → 2-7 ms for the first `startTls` of a fresh process).
 */
export function warmCrypto(): Promise<void> {
  // The key itself is not used; a failure only leaves the cost where it was. Callers need not
  // wait: the process may exit with it pending.
  return crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"])
    .then(() => {}, () => {});
}
