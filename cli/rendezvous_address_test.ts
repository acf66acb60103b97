import assert from "node:assert/strict";
import { UsageError } from "../base/mod.ts";
import { peerFinding } from "./rendezvous_address.ts";

Deno.test("peerFinding refuses --tcp --transport quic with a server, local network on or off", () => {
  for (const local of [true, false]) {
    assert.throws(
      () => peerFinding("127.0.0.1:9", { local, relay: "auto", tcp: true, transport: "quic" }),
      (error) =>
        error instanceof UsageError &&
        /^--transport quic needs UDP between the peers, but --tcp .*drop --tcp or --transport quic$/
          .test(error.message),
    );
  }
});

Deno.test("peerFinding takes --transport quic without --tcp, and --tcp with QUIC when no server is configured", () => {
  assert.deepEqual(
    peerFinding("127.0.0.1:9", { local: false, relay: "auto", tcp: false, transport: "quic" }),
    { rendezvous: [{ hostname: "127.0.0.1", port: 9 }], local: false },
  );
  // No server: --tcp changes nothing, and QUIC on the local network works.
  const saved = Deno.env.get("P2PFT_RENDEZVOUS");
  Deno.env.delete("P2PFT_RENDEZVOUS");
  try {
    assert.deepEqual(
      peerFinding(undefined, { local: true, relay: "auto", tcp: true, transport: "quic" }),
      { local: true },
    );
  } finally {
    if (saved !== undefined) Deno.env.set("P2PFT_RENDEZVOUS", saved);
  }
});
