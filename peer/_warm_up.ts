/** Costs the first use in a process pays, paid while this side waits anyway. */
import { Spake2 } from "../pake/mod.ts";
import { PEER_SERVER_NAME } from "./certificate.ts";

/**
 * The first SPAKE2 exchange in a process compiles the curve code and builds
 * its tables (about 70 ms of CPU per side here, 140 ms under load), which
 * otherwise lands between `paired` and `connected`. One throwaway exchange
 * while this side waits anyway (the sender for its receiver, the receiver for
 * the rendezvous server's answer) moves it out of the way.
 */
export function warmUpPake(): void {
  const options = { identityA: new Uint8Array([1]), identityB: new Uint8Array([2]) };
  const password = crypto.getRandomValues(new Uint8Array(8));
  const a = Spake2.start("A", password, options);
  const b = Spake2.start("B", password, options);
  a.finish(b.message);
  b.finish(a.message);
}

/**
 * The first TLS client in a process loads the default root store (about 35 ms
 * of CPU here: 144 certificates from SSL_CERT_FILE, or the built-in list),
 * even when `caCerts` pins the only root that counts; Deno's QUIC client
 * builds the same store. One throwaway client on a loopback connection while
 * the receiver punches (it mostly waits for the sender's probes then) takes
 * that off the way from `paired` to `connected`. Never fails: without
 * loopback the first real client just pays it.
 */
export async function warmUpTlsClient(): Promise<void> {
  try {
    using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const accepted = listener.accept();
    try {
      const tcp = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
      // Building the client loads the store; no handshake is needed for that.
      (await Deno.startTls(tcp, { hostname: PEER_SERVER_NAME })).close();
    } finally {
      (await accepted).close();
    }
  } catch {
    // An optimization only.
  }
}
