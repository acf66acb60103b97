/**
 * Child process for tls_link_security_test.ts: links to the sender given on
 * argv as the receiver, prints "linked", then waits to be killed.
 */
import { dialTlsPeer } from "./tls_link.ts";

const [port, pem] = [Number(Deno.args[0]), Deno.args[1]];
const link = await dialTlsPeer({ transport: "tcp", hostname: "127.0.0.1", port }, {
  peerCertificatePem: pem,
});
await Deno.stdout.write(new TextEncoder().encode("linked\n"));
await link.closed;
