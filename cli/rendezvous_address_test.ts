import assert from "node:assert/strict";
import { UsageError } from "../base/mod.ts";
import { peerFinding, rendezvousAddresses } from "./rendezvous_address.ts";

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

Deno.test("rendezvousAddresses refuses an empty --rendezvous and reads an empty P2PFT_RENDEZVOUS as unset", () => {
  const saved = Deno.env.get("P2PFT_RENDEZVOUS");
  try {
    for (const env of ["", "127.0.0.1:9"]) {
      Deno.env.set("P2PFT_RENDEZVOUS", env);
      for (const flag of ["", "  "]) {
        assert.throws(
          () => rendezvousAddresses(flag),
          (error) => error instanceof UsageError && /^--rendezvous is empty/.test(error.message),
        );
      }
    }
    Deno.env.set("P2PFT_RENDEZVOUS", "");
    assert.equal(rendezvousAddresses(undefined), "none");
  } finally {
    if (saved === undefined) Deno.env.delete("P2PFT_RENDEZVOUS");
    else Deno.env.set("P2PFT_RENDEZVOUS", saved);
  }
});
