/**
 * The lab's IPv6 (`ipv6: "dual" | "only"`), checked with real UDP inside the namespaces: no NAT,
 * but home routers that drop unsolicited inbound traffic, as real ones do.
 */
import assert from "node:assert/strict";
import { ping, portOf, probe, startEcho } from "./_test_helpers.ts";
import { createLab, labSkip } from "./mod.ts";

const skip = await labSkip();
const ECHO_PORT = 7000;

function labTest(name: string, timeoutMs: number, fn: (signal: AbortSignal) => Promise<void>) {
  Deno.test({
    name: name + skip.note,
    ignore: skip.ignore,
    fn: () => fn(AbortSignal.timeout(timeoutMs)),
  });
}

/** `[ip6]:port`; throws when the lab has no IPv6 address there. */
function at(ip6: string | undefined, port: number | string): string {
  assert.ok(ip6, "the lab was created without ipv6");
  return `[${ip6}]:${port}`;
}

labTest(
  "lab ipv6: a home host reaches the server over IPv6 unNATed, unsolicited inbound is dropped, IPv4 is NATed as before",
  20_000,
  async (signal) => {
    await using lab = await createLab({
      natA: "endpoint-independent",
      natB: "none",
      ipv6: "dual",
      signal,
    });
    const rv6 = at(lab.rendezvous.ip6, ECHO_PORT);
    const rv4 = `${lab.rendezvous.ip}:${ECHO_PORT}`;
    await using _rvEcho6 = await startEcho(lab, lab.rendezvous.ns, { bind: rv6, signal });
    await using _rvEcho4 = await startEcho(lab, lab.rendezvous.ns, { bind: rv4, signal });
    await using _echoA = await startEcho(lab, lab.hostA.ns, {
      bind: at(lab.hostA.ip6, 7100),
      signal,
    });
    await using _echoB = await startEcho(lab, lab.hostB.ns, {
      bind: at(lab.hostB.ip6, 7200),
      signal,
    });

    // Over IPv6 the server sees the host's own address and port: no NAT.
    const fromA = await probe(lab, lab.hostA.ns, [rv6], { signal });
    assert.equal(fromA.observed[0], at(lab.hostA.ip6, portOf(fromA.local)));
    const fromA4 = await probe(lab, lab.hostA.ns, [rv4], { signal, bind: "0.0.0.0:40000" });
    assert.equal(fromA4.observed[0], `${lab.routerA.publicIp}:40000`);

    // Router A (a home router) drops a new flow from outside; router B (NAT kind none) routes it.
    const inbound = await probe(lab, lab.rendezvous.ns, [
      at(lab.hostA.ip6, 7100),
      at(lab.hostB.ip6, 7200),
    ], { timeoutMs: 800, signal });
    assert.equal(inbound.observed[0], null, "router A let an unsolicited IPv6 datagram in");
    assert.equal(inbound.observed[1], at(lab.rendezvous.ip6, portOf(inbound.local)));

    // Inside the LAN nothing filters: host A2 reaches host A's echo directly.
    const neighbour = await probe(lab, lab.hostA2.ns, [at(lab.hostA.ip6, 7100)], { signal });
    assert.equal(neighbour.observed[0], at(lab.hostA2.ip6, portOf(neighbour.local)));

    // A flow the host opened lets the answer in, and only from the address it was opened to.
    await using primed = await startEcho(lab, lab.hostA.ns, {
      bind: at(lab.hostA.ip6, 7101),
      prime: rv6,
      signal,
    });
    const mapped = (await primed.next("mapped", signal)).address;
    assert.equal(mapped, at(lab.hostA.ip6, 7101));
    const stranger = await probe(lab, lab.rendezvous.ns, [mapped], {
      signal,
      bind: at(lab.rendezvous.altIp6, ECHO_PORT),
      timeoutMs: 800,
    });
    assert.equal(stranger.observed[0], null, `a stranger got through the pinhole to ${mapped}`);
  },
);

labTest(
  "lab ipv6: two home hosts probing each other at the same time get through both home firewalls",
  20_000,
  async (signal) => {
    await using lab = await createLab({
      natA: "symmetric",
      natB: "symmetric",
      ipv6: "dual",
      signal,
    });
    const a = at(lab.hostA.ip6, 7100);
    const b = at(lab.hostB.ip6, 7200);
    // One side alone is dropped by the other side's router.
    await using _alone = await startEcho(lab, lab.hostB.ns, {
      bind: at(lab.hostB.ip6, 7201),
      signal,
    });
    const oneSided = await probe(lab, lab.hostA.ns, [at(lab.hostB.ip6, 7201)], {
      signal,
      timeoutMs: 800,
    });
    assert.equal(oneSided.observed[0], null, "router B let an unsolicited IPv6 datagram in");

    // Both send from the port they answer on: each router sees its host's flow first, and the
    // other's datagram then matches it.
    await using echoA = await startEcho(lab, lab.hostA.ns, { bind: a, prime: b, signal });
    await using echoB = await startEcho(lab, lab.hostB.ns, { bind: b, prime: a, signal });
    const [seenByB, seenByA] = await Promise.all([
      echoA.next("mapped", signal),
      echoB.next("mapped", signal),
    ]);
    assert.equal(seenByB.address, a, "host B saw host A at another address");
    assert.equal(seenByA.address, b, "host A saw host B at another address");
  },
);

labTest(
  "lab ipv6 only: home hosts have no IPv4 at all and reach the dual-stack server over IPv6, delayed like IPv4",
  20_000,
  async (signal) => {
    await using lab = await createLab({
      natA: "endpoint-independent",
      natB: "endpoint-independent",
      ipv6: "only",
      delayMs: 20,
      signal,
    });
    for (const host of [lab.hostA, lab.hostA2, lab.hostB]) {
      assert.equal(host.ip, host.ip6);
      assert.equal(host.publicIp, host.ip6);
      const addresses = await lab.exec(host.ns, [
        "ip",
        "-4",
        "-o",
        "address",
        "show",
        "dev",
        "eth0",
      ]);
      assert.equal(addresses.stdout.trim(), "", `${host.ns} has IPv4: ${addresses.stdout}`);
      const routes = await lab.exec(host.ns, ["ip", "-4", "route", "show"]);
      assert.equal(routes.stdout.trim(), "", `${host.ns} has IPv4 routes: ${routes.stdout}`);
      const lookup = await lab.exec(host.ns, ["ip", "-4", "route", "get", lab.rendezvous.ip]);
      assert.notEqual(lookup.code, 0, `${host.ns} has a route to ${lab.rendezvous.ip}`);
    }
    const rv6 = at(lab.rendezvous.ip6, ECHO_PORT);
    const rv4 = `${lab.rendezvous.ip}:${ECHO_PORT}`;
    await using _rvEcho6 = await startEcho(lab, lab.rendezvous.ns, { bind: rv6, signal });
    await using _rvEcho4 = await startEcho(lab, lab.rendezvous.ns, { bind: rv4, signal });
    const fromB = await probe(lab, lab.hostB.ns, [rv6], { signal });
    assert.equal(fromB.observed[0], at(lab.hostB.ip6, portOf(fromB.local)));
    const fromB4 = await probe(lab, lab.hostB.ns, [rv4], { signal, timeoutMs: 800 });
    assert.equal(fromB4.observed[0], null, "an IPv6-only host reached the server over IPv4");
    // The delay lines work at layer 2, so IPv6 crosses two delayed links like IPv4: 4 x 20 ms.
    assert.ok(lab.rendezvous.ip6);
    await ping(lab, lab.hostB.ns, lab.rendezvous.ip6, { count: 1, intervalS: 0.2, signal });
    const rtt = await ping(lab, lab.hostB.ns, lab.rendezvous.ip6, {
      count: 3,
      intervalS: 0.2,
      signal,
    });
    assert.ok(rtt.lost === 0 && rtt.min >= 79 && rtt.min < 119, `RTT: ${JSON.stringify(rtt)}`);
    // The public net keeps IPv4: the router's WAN side reaches the server's IPv4 address.
    const fromRouter = await probe(lab, lab.routerB.ns, [rv4], { signal });
    assert.equal(fromRouter.observed[0], `${lab.routerB.publicIp}:${portOf(fromRouter.local)}`);
  },
);
