/**
 * IPv6 through the real CLI in the network lab (issue #14): the homes get documentation prefixes
 * routed without NAT behind home routers that drop unsolicited inbound traffic
 * (tests/lab/README.md, "IPv6"). Where IPv4 offers only the relay or nothing at all, the peers
 * punch the stateful IPv6 firewalls and connect directly; the bytes' SHA-256 is checked.
 * Harness: tests/_nat_lab.ts.
 */
import assert from "node:assert/strict";
import {
  assertDelivered,
  event,
  labTest,
  type Outcome,
  RENDEZVOUS_PORT,
  runScenario,
} from "./_nat_lab.ts";
import { RENDEZVOUS_NAME } from "./lab/mod.ts";

/** `[ip6]:port` of the given host, as the `connected` event prints it. */
function bracketed(ip6: string | undefined): RegExp {
  assert.ok(ip6, "the lab has no IPv6 address for this host");
  return new RegExp(`^\\[${ip6}\\]:\\d+$`);
}

/** Each side's `connected.remote` is the other host's own IPv6 address (no NAT on IPv6). */
function assertOverIpv6(outcome: Outcome): void {
  const remote = (run: Outcome["sender"]) => String(event(run, "connected")?.remote);
  assert.match(remote(outcome.receiver), bracketed(outcome.lab.hostA.ip6));
  assert.match(remote(outcome.sender), bracketed(outcome.lab.hostB.ip6));
}

labTest(
  "lab ipv6: dual-stack peers behind two endpoint-dependent IPv4 NATs connect directly over IPv6, not through the relay",
  120_000,
  (signal) =>
    runScenario(signal, {
      lab: { natA: "symmetric", natB: "symmetric", ipv6: "dual" },
      // The server's default (dual-stack); the peers reach it at its IPv4 address and learn each
      // other's IPv6 candidates from its messages.
      serveHost: null,
    }, (outcome) => {
      assertDelivered(outcome, "direct");
      assertOverIpv6(outcome);
    }),
);

labTest(
  "lab ipv6: peers in IPv6-only homes meet at a server given as [2001:db8::10]:9000 and connect directly",
  120_000,
  (signal) =>
    runScenario(signal, {
      lab: { natA: "endpoint-independent", natB: "endpoint-independent", ipv6: "only" },
      serveHost: "::",
      rendezvous: (lab) => `[${lab.rendezvous.ip6}]:${RENDEZVOUS_PORT}`,
    }, (outcome) => {
      assert.equal(outcome.lab.hostA.ip, outcome.lab.hostA.ip6, "home A has IPv4");
      assertDelivered(outcome, "direct");
      assertOverIpv6(outcome);
    }),
);

labTest(
  "lab ipv6: in IPv6-only homes a server host name with A and AAAA records works (the A address is skipped at once)",
  120_000,
  (signal) =>
    runScenario(signal, {
      lab: { natA: "endpoint-independent", natB: "endpoint-independent", ipv6: "only" },
      serveHost: "::",
      // /etc/hosts in every lab namespace gives the name the server's IPv4 and IPv6 address; IPv4
      // comes first and is unreachable from these homes, so the client must move on without waiting.
      rendezvous: () => `${RENDEZVOUS_NAME}:${RENDEZVOUS_PORT}`,
    }, (outcome) => {
      assertDelivered(outcome, "direct");
      assertOverIpv6(outcome);
      for (const run of [outcome.sender, outcome.receiver]) {
        const paired = event(run, "paired");
        assert.ok(paired, "no paired event");
        assert.equal(paired.found, "server");
      }
    }),
);

labTest(
  "lab ipv6: dual-stack peers behind endpoint-independent IPv4 NATs still connect directly",
  120_000,
  (signal) =>
    runScenario(signal, {
      lab: { natA: "endpoint-independent", natB: "endpoint-independent", ipv6: "dual" },
      serveHost: null,
    }, (outcome) => {
      assertDelivered(outcome, "direct");
      // Either family is a direct path here: IPv6 to host A itself, or IPv4 to router A's mapping.
      const remote = String(event(outcome.receiver, "connected")?.remote);
      const ipv4 = new RegExp(`^${outcome.lab.routerA.publicIp.replaceAll(".", "\\.")}:\\d+$`);
      assert.ok(
        bracketed(outcome.lab.hostA.ip6).test(remote) || ipv4.test(remote),
        `remote ${remote} is neither host A's IPv6 address nor router A's IPv4 mapping`,
      );
    }),
);

labTest(
  "lab ipv6: two dual-stack hosts on one LAN still rank the LAN first",
  120_000,
  (signal) =>
    runScenario(signal, {
      lab: { natA: "endpoint-independent", natB: "endpoint-independent", ipv6: "dual" },
      serveHost: null,
      receiver: "hostA2",
    }, (outcome) => {
      assertDelivered(outcome, "lan");
      // Host A over either family: its private IPv4 address or its IPv6 address on the same link.
      const remote = String(event(outcome.receiver, "connected")?.remote);
      const ipv4 = new RegExp(`^${outcome.lab.hostA.ip.replaceAll(".", "\\.")}:\\d+$`);
      assert.ok(
        bracketed(outcome.lab.hostA.ip6).test(remote) || ipv4.test(remote),
        `remote ${remote} is not host A`,
      );
    }),
);
