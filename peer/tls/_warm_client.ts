/**
 * A process's first TLS client is slow to make: `Deno.startTls` (and `Deno.connectQuic`, which
 * shares the set-up) spends about 35 ms of CPU in its first call on a quiet host (110-140 ms at
 * load 9 here), the next ones under 1 ms, whatever certificate is pinned. A receiver that waits
 * for its sender pays it then, on a loopback connection of its own, instead of on the way to
 * `connected` (peer/PROTOCOL.md, "Round trips of a small transfer").
 */
import { PEER_SERVER_NAME } from "../cert/mod.ts";

/** Starts TLS once on a loopback connection to itself (no handshake: closed at once). */
export async function warmTlsClient(): Promise<void> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [client, server] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
    listener.accept(),
  ]);
  try {
    const tls = await Deno.startTls(client, { hostname: PEER_SERVER_NAME, caCerts: [] })
      .catch((error) => {
        client.close();
        throw error;
      });
    tls.close();
  } finally {
    server.close();
  }
}
