import assert from "node:assert/strict";
import {
  candidatesFrom,
  hasGlobalIpv6,
  type InterfaceAddress,
  isIpv6,
  isLanAddress,
  isOfferableIpv6,
  isPrivateIpv4,
  onLinkIpv6Prefixes,
} from "./addresses.ts";
import { normalizeAddr, sameAddr } from "../../base/mod.ts";

Deno.test("isPrivateIpv4 accepts the private, loopback, link-local and CGNAT ranges", () => {
  for (
    const ip of [
      "10.0.0.1",
      "10.255.255.255",
      "127.0.0.1",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.1.10",
      "169.254.0.1",
      "100.64.0.1",
      "100.127.255.255",
    ]
  ) {
    assert.equal(isPrivateIpv4(ip), true, ip);
  }
});

Deno.test("isPrivateIpv4 rejects public addresses next to the private ranges", () => {
  for (
    const ip of [
      "8.8.8.8",
      "11.0.0.1",
      "172.15.255.255",
      "172.32.0.1",
      "192.167.1.1",
      "192.169.0.1",
      "169.253.0.1",
      "100.63.255.255",
      "100.128.0.1",
      "203.0.113.5",
    ]
  ) {
    assert.equal(isPrivateIpv4(ip), false, ip);
  }
});

Deno.test("isPrivateIpv4 rejects text that is not a dotted IPv4 address", () => {
  for (const text of ["", "10.0.0", "10.0.0.1.2", "10.0.0.256", "10.0.0.-1", "::1", "ten.0.0.1"]) {
    assert.equal(isPrivateIpv4(text), false, JSON.stringify(text));
  }
});

Deno.test("normalizeAddr keeps the port and transport, and sameAddr ignores the mapping", () => {
  const mapped: Deno.NetAddr = { transport: "udp", hostname: "::ffff:10.0.0.2", port: 4000 };
  assert.deepEqual(normalizeAddr(mapped), { transport: "udp", hostname: "10.0.0.2", port: 4000 });
  assert.equal(sameAddr(mapped, { hostname: "10.0.0.2", port: 4000 }), true);
  assert.equal(sameAddr(mapped, { hostname: "10.0.0.2", port: 4001 }), false);
  assert.equal(
    sameAddr({ hostname: "2001:DB8::1", port: 1 }, { hostname: "2001:db8::1", port: 1 }),
    true,
  );
});

Deno.test("isIpv6 tells the families apart, counting a mapped address as IPv4", () => {
  assert.equal(isIpv6("2001:db8::1"), true);
  assert.equal(isIpv6("::1"), true);
  assert.equal(isIpv6("::ffff:10.0.0.1"), false);
  assert.equal(isIpv6("10.0.0.1"), false);
});

Deno.test("isLanAddress covers private IPv4 and IPv6 unique-local, link-local and loopback", () => {
  for (
    const ip of [
      "10.0.0.1",
      "192.168.1.10",
      "::ffff:192.168.1.10",
      "fd00::2",
      "fc12:3456::1",
      "FD00::2",
      "fe80::1",
      "febf::1",
      "::1",
    ]
  ) {
    assert.equal(isLanAddress(ip), true, ip);
  }
  for (
    const ip of [
      "8.8.8.8",
      "::ffff:8.8.8.8",
      "2001:db8::10",
      "2a00:1450::1",
      "fe00::1",
      "fec0::1",
      "fbff::1",
      "ff02::fb",
      "::",
      "::2",
      "not an ip",
      "fd00::1::2",
    ]
  ) {
    assert.equal(isLanAddress(ip), false, ip);
  }
});

Deno.test("isOfferableIpv6 admits global and unique-local IPv6 only", () => {
  for (
    const ip of ["2001:db8::10", "2a00:1450:4001:81b::200e", "fd00::2", "fc00::1", "2001:DB8::1"]
  ) {
    assert.equal(isOfferableIpv6(ip), true, ip);
  }
  for (
    const ip of [
      "::",
      "::1",
      "fe80::fc:ff:fe00:1",
      "fe80::1%eth0",
      "ff02::1",
      "ff05::fb",
      "::ffff:192.168.1.10",
      "::ffff:c0a8:10a",
      "::192.168.1.10",
      "192.168.1.10",
      "2001:db8::1::2",
      "2001:db8:0:0:0:0:0:0:1",
      "2001:db8:0:0:0:0:1",
      "2001:db8::g",
      "",
    ]
  ) {
    assert.equal(isOfferableIpv6(ip), false, JSON.stringify(ip));
  }
});

Deno.test("hasGlobalIpv6 needs an address outside unique-local", () => {
  assert.equal(hasGlobalIpv6([{ hostname: "10.0.0.1" }, { hostname: "2001:db8::1" }]), true);
  assert.equal(hasGlobalIpv6([{ hostname: "fd00::2" }, { hostname: "fe80::1" }]), false);
  assert.equal(hasGlobalIpv6([{ hostname: "203.0.113.5" }]), false);
  assert.equal(hasGlobalIpv6([]), false);
});

const v4 = (address: string): InterfaceAddress => ({ family: "IPv4", address });
const v6 = (address: string): InterfaceAddress => ({ family: "IPv6", address });
const hosts = (candidates: Deno.NetAddr[]) => candidates.map((c) => c.hostname);

Deno.test("candidatesFrom lists IPv4 first, then global and unique-local IPv6, on one port", () => {
  const candidates = candidatesFrom([
    v6("::1"),
    v4("127.0.0.1"),
    v6("2001:db8::10"),
    v4("192.168.1.20"),
    v6("fe80::fc:ff:fe00:1"),
    v6("fd00::2"),
    v6("ff02::fb"),
    v6("::ffff:192.168.1.20"),
    v4("10.0.0.5"),
    v6("2001:DB8::10"),
    v4("192.168.1.20"),
  ], 4000);
  assert.deepEqual(hosts(candidates), ["192.168.1.20", "10.0.0.5", "2001:db8::10", "fd00::2"]);
  assert.ok(candidates.every((c) => c.port === 4000 && c.transport === "udp"));
});

Deno.test("candidatesFrom keeps at most 8, with room for IPv6 when there are many IPv4 addresses", () => {
  const many4 = Array.from({ length: 10 }, (_, i) => v4(`10.0.0.${i + 1}`));
  const many6 = Array.from({ length: 10 }, (_, i) => v6(`2001:db8::${i + 1}`));
  const both = hosts(candidatesFrom([...many4, ...many6], 1));
  assert.deepEqual(both, [
    "10.0.0.1",
    "10.0.0.2",
    "10.0.0.3",
    "10.0.0.4",
    "2001:db8::1",
    "2001:db8::2",
    "2001:db8::3",
    "2001:db8::4",
  ]);
  // One family alone may use every place; a few IPv6 addresses leave the rest to IPv4.
  assert.equal(candidatesFrom(many4, 1).length, 8);
  assert.equal(candidatesFrom(many6, 1).length, 8);
  assert.deepEqual(
    hosts(candidatesFrom([...many4, v6("2001:db8::1")], 1)),
    [...many4.slice(0, 7).map((a) => a.address), "2001:db8::1"],
  );
});

Deno.test("isLanAddress counts a global IPv6 address inside one of our prefixes as LAN", () => {
  const interfaces = [
    { family: "IPv4", address: "192.168.1.10", cidr: "192.168.1.10/24" },
    { family: "IPv6", address: "2001:db8:a::10", cidr: "2001:db8:a::10/64" },
    { family: "IPv6", address: "fe80::1", cidr: "fe80::1/64" },
    { family: "IPv6", address: "::1", cidr: "::1/128" },
  ] as const;
  const onLink = onLinkIpv6Prefixes(interfaces);
  assert.deepEqual(onLink, ["2001:db8:a::10/64"]);
  assert.equal(isLanAddress("2001:db8:a::11", onLink), true);
  assert.equal(isLanAddress("2001:db8:a::11"), false);
  assert.equal(isLanAddress("2001:db8:b::11", onLink), false);
  assert.equal(isLanAddress("192.168.1.20", onLink), true);
  assert.equal(isLanAddress("203.0.113.5", onLink), false);
});
