import assert from "node:assert/strict";
import { linkAttempts, tcpOnlyAttempts } from "./_choose_transport.ts";

Deno.test("linkAttempts tries TLS first on the LAN and through the relay, QUIC after", () => {
  assert.deepEqual(linkAttempts("lan", "auto"), ["lan-tls", "quic"]);
  assert.deepEqual(linkAttempts("relay", "auto"), ["relay-tls", "quic"]);
});

Deno.test("linkAttempts keeps QUIC on a punched public path", () => {
  assert.deepEqual(linkAttempts("direct", "auto"), ["quic"]);
  assert.deepEqual(linkAttempts("direct", "quic"), ["quic"]);
});

Deno.test("linkAttempts honours a forced transport", () => {
  assert.deepEqual(linkAttempts("lan", "quic"), ["quic"]);
  assert.deepEqual(linkAttempts("lan", "tcp"), ["lan-tls"]);
  assert.deepEqual(linkAttempts("relay", "tcp"), ["relay-tls"]);
  assert.deepEqual(linkAttempts("relay", "quic"), ["quic"]);
  assert.deepEqual(linkAttempts("direct", "tcp"), ["relay-tls"]);
});

Deno.test("tcpOnlyAttempts tries the LAN before the relay, and only what is there", () => {
  assert.deepEqual(tcpOnlyAttempts({ lan: true, relay: true }), ["lan-tls", "relay-tls"]);
  assert.deepEqual(tcpOnlyAttempts({ lan: false, relay: true }), ["relay-tls"]);
  assert.deepEqual(tcpOnlyAttempts({ lan: false, relay: false }), []);
});
