import assert from "node:assert/strict";
import { warmCrypto } from "./warm_crypto.ts";

Deno.test("warmCrypto settles, and the first TLS client after it still works", async () => {
  assert.equal(await warmCrypto(), undefined);
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [client, server] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
    listener.accept(),
  ]);
  server.close();
  const tls = await Deno.startTls(client, { hostname: "localhost", caCerts: [] });
  tls.close();
});
