import assert from "node:assert/strict";
import type { PathFacts } from "../peer/mod.ts";
import { connectedEvent, describePath, onThisComputer, pairedEvent } from "./session_events.ts";

function facts(overrides: Partial<PathFacts>): PathFacts {
  return {
    path: "direct",
    transport: "quic",
    remote: { transport: "udp", hostname: "203.0.113.7", port: 41000 },
    rttMs: 23.4,
    candidate: "server",
    chosenBy: "self",
    nat: { self: "endpoint-independent", peer: "endpoint-independent" },
    triedDirect: true,
    ...overrides,
  };
}

Deno.test("describePath names the private address that answered on a LAN", () => {
  const line = describePath(facts({
    path: "lan",
    candidate: "private",
    remote: { transport: "udp", hostname: "192.168.1.5", port: 5000 },
  }));
  assert.equal(line, "private address 192.168.1.5:5000 answered in 23 ms");
});

Deno.test("describePath names a public address, where it came from, and that no private one answered", () => {
  assert.equal(
    describePath(facts({ candidate: "birthday" })),
    "public address 203.0.113.7:41000 (birthday) answered in 23 ms; no private address answered",
  );
});

Deno.test("describePath on the relay says nothing direct answered and gives both NAT mappings", () => {
  const line = describePath(facts({
    path: "relay",
    candidate: "relay",
    nat: { self: "endpoint-dependent", peer: "endpoint-dependent" },
  }));
  assert.equal(
    line,
    "no direct address answered; relaying through 203.0.113.7:41000 (end-to-end encrypted); " +
      "NAT mapping: ours endpoint-dependent, the peer's endpoint-dependent",
  );
});

Deno.test("describePath with --relay-only does not claim that direct addresses failed", () => {
  const line = describePath(facts({ path: "relay", candidate: "relay", triedDirect: false }));
  assert.doesNotMatch(line, /no direct address answered/);
  assert.match(line, /^relaying through 203\.0\.113\.7:41000 as --relay-only on one side asks/);
  // The sender follows the receiver's choice, and says why it is the relay too.
  const sender = describePath(
    facts({ path: "relay", candidate: "relay", triedDirect: false, chosenBy: "peer" }),
  );
  assert.match(sender, /^relaying through 203\.0\.113\.7:41000 as --relay-only on one side asks/);
});

Deno.test("describePath on the sender says the receiver chose the path", () => {
  assert.equal(
    describePath(facts({ chosenBy: "peer", candidate: "peer-reflexive" })),
    "the receiver chose 203.0.113.7:41000",
  );
});

Deno.test("connectedEvent carries the structured fields beside the prose reason", () => {
  const event = connectedEvent(facts({ rttMs: 12 }));
  assert.deepEqual(event, {
    type: "connected",
    path: "direct",
    remote: "203.0.113.7:41000",
    rttMs: 12,
    reason:
      "public address 203.0.113.7:41000 (server) answered in 12 ms; no private address answered",
    transport: "quic",
    candidate: "server",
    nat: { self: "endpoint-independent", peer: "endpoint-independent" },
  });
});

Deno.test("pairedEvent gives the nameplate, the peer's address and how it was found", () => {
  for (const found of ["local", "server"] as const) {
    assert.deepEqual(
      pairedEvent({
        nameplate: "7",
        peer: { transport: "udp", hostname: "198.51.100.2", port: 6000 },
        found,
      }),
      { type: "paired", nameplate: "7", peer: "198.51.100.2:6000", found },
    );
  }
});

Deno.test("onThisComputer knows loopback and this host's own addresses, in any spelling", () => {
  const own = [{ address: "192.0.2.2" }, { address: "fd00::2" }, { address: "fe80::1%2" }];
  for (
    const ip of ["127.0.0.1", "127.3.0.9", "::1", "192.0.2.2", "::ffff:192.0.2.2", "fd00:0::2"]
  ) {
    assert.equal(onThisComputer(ip, own), true, ip);
  }
  for (const ip of ["192.0.2.3", "fd00::3", "203.0.113.7"]) {
    assert.equal(onThisComputer(ip, own), false, ip);
  }
});

Deno.test("connectedEvent and pairedEvent mark a peer on this computer, never a relay's address", () => {
  const own = [{ address: "fd00::2" }];
  const lan = facts({ path: "lan", remote: { transport: "tcp", hostname: "fd00::2", port: 5000 } });
  assert.equal(connectedEvent(lan, own).thisComputer, true);
  assert.equal(connectedEvent(facts({}), own).thisComputer, undefined);
  const relayed = { ...lan, path: "relay" as const, candidate: "relay" as const };
  assert.equal(connectedEvent(relayed, own).thisComputer, undefined);
  const paired = pairedEvent({
    nameplate: "7",
    peer: { transport: "udp", hostname: "127.0.0.1", port: 6000 },
    found: "server",
  }, own);
  assert.equal(paired.thisComputer, true);
});
