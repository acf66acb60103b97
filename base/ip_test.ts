import assert from "node:assert/strict";
import {
  bindEitherStack,
  canonicalIp,
  formatIpv6,
  inIpv6Prefix,
  isIpv4Mapped,
  isIpv4Text,
  isReachableIpv6,
  normalizeIp,
  parseIpv4,
  parseIpv6,
} from "./ip.ts";

Deno.test("IPv6 text of any spelling formats to its one RFC 5952 spelling", () => {
  const cases: [string, string][] = [
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:0db8:0000:0001:0000:0000:0000:0001", "2001:db8:0:1::1"],
    ["::1", "::1"],
    ["::", "::"],
    ["fe80::", "fe80::"],
    ["2001:db8:1:1:1:1:1:0", "2001:db8:1:1:1:1:1:0"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
    ["::FFFF:192.0.2.1", "::ffff:192.0.2.1"],
    ["0:0:0:0:0:ffff:c000:201", "::ffff:192.0.2.1"],
  ];
  for (const [given, canonical] of cases) {
    assert.equal(formatIpv6(parseIpv6(given)!), canonical, given);
    assert.equal(canonicalIp(given), canonical, given);
  }
  assert.equal(canonicalIp("192.0.2.1"), "192.0.2.1");
  assert.equal(canonicalIp("example.org"), "example.org");
});

Deno.test("parseIpv6 refuses what is not one IPv6 address", () => {
  for (
    const bad of [
      "1::2::3",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7::8",
      "12345::1",
      "g::1",
      "fe80::1%eth0",
      "[::1]",
      "1.2.3.4::1",
      "::1.2.3",
      "::1.2.3.4:5",
      "1.2.3.4",
      "",
    ]
  ) {
    assert.equal(parseIpv6(bad), undefined, bad);
  }
});

Deno.test("isIpv4Text takes dotted IPv4 without leading zeros only", () => {
  for (const good of ["0.0.0.0", "192.0.2.1", "255.255.255.255"]) assert.ok(isIpv4Text(good), good);
  for (const bad of ["256.0.0.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "::1", " 1.2.3.4"]) {
    assert.ok(!isIpv4Text(bad), bad);
  }
});

Deno.test("parseIpv4 gives the address's value and agrees with the dotted-quad grammar", () => {
  assert.equal(parseIpv4("0.0.0.0"), 0);
  assert.equal(parseIpv4("192.0.2.1"), 0xc0000201);
  assert.equal(parseIpv4("255.255.255.255"), 0xffffffff);
  const grammar =
    /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;
  const pieces = [
    "0",
    "00",
    "01",
    "1",
    "9",
    "10",
    "099",
    "199",
    "255",
    "256",
    "1000",
    "",
    "a",
    "-1",
  ];
  const pick = (i: number) => pieces[i % pieces.length];
  for (let i = 0; i < 20_000; i++) {
    const parts = [pick(i), pick(i * 7 + 3), pick(i * 13 + 5), pick(i * 31 + 1)];
    const text = i % 97 === 0 ? parts.slice(0, 3).join(".") : parts.join(".") + (i % 89 ? "" : ".");
    assert.equal(parseIpv4(text) >= 0, grammar.test(text), text);
  }
  for (const bad of ["1.2.3.4 ", "1..2.3", ".1.2.3", "1.2.3.4.", "１.2.3.4", "1.2.3.4\n"]) {
    assert.equal(parseIpv4(bad), -1, bad);
  }
});

Deno.test("isReachableIpv6: global and unique-local, never loopback, link-local, multicast or mapped", () => {
  for (const good of ["2001:db8::1", "fd00::2", "fc12::1", "2a00:1450::5"]) {
    assert.ok(isReachableIpv6(parseIpv6(good)!), good);
  }
  for (
    const bad of ["::", "::1", "::192.0.2.1", "::ffff:192.0.2.1", "fe80::1", "febf::1", "ff02::fb"]
  ) {
    assert.ok(!isReachableIpv6(parseIpv6(bad)!), bad);
  }
  assert.ok(isIpv4Mapped(parseIpv6("::ffff:10.0.0.1")!));
  assert.ok(!isIpv4Mapped(parseIpv6("::10.0.0.1")!));
});

Deno.test("inIpv6Prefix compares the prefix's bits, byte boundaries or not", () => {
  assert.ok(inIpv6Prefix("2001:db8:a::11", "2001:db8:a::10/64"));
  assert.ok(!inIpv6Prefix("2001:db8:b::11", "2001:db8:a::10/64"));
  assert.ok(inIpv6Prefix("2001:db8:a:ff::1", "2001:db8:a:80::/57"));
  assert.ok(!inIpv6Prefix("2001:db8:a:7f::1", "2001:db8:a:80::/57"));
  assert.ok(inIpv6Prefix("2001:db8::1", "::/0"));
  assert.ok(inIpv6Prefix("2001:db8::1", "2001:db8::1/128"));
  assert.ok(!inIpv6Prefix("2001:db8::2", "2001:db8::1/128"));
  for (const bad of ["2001:db8::/129", "2001:db8::", "nonsense/64", "2001:db8::/x"]) {
    assert.ok(!inIpv6Prefix("2001:db8::1", bad), bad);
  }
  assert.ok(!inIpv6Prefix("192.0.2.1", "::/0"));
});

Deno.test("normalizeIp turns IPv4-mapped IPv6 into dotted IPv4 and lower-cases IPv6", () => {
  assert.equal(normalizeIp("::ffff:127.0.0.1"), "127.0.0.1");
  assert.equal(normalizeIp("::FFFF:192.168.1.10"), "192.168.1.10");
  assert.equal(normalizeIp("2001:DB8::1"), "2001:db8::1");
  assert.equal(normalizeIp("10.0.0.1"), "10.0.0.1");
  // Not a mapped IPv4 address: left as it is.
  assert.equal(normalizeIp("::ffff:abcd"), "::ffff:abcd");
  assert.equal(normalizeIp("::ffff:1.2.3.400"), "::ffff:1.2.3.400");
  // Mapped, in hex: still the IPv4 address; other IPv6 text in its RFC 5952 spelling.
  assert.equal(normalizeIp("::ffff:c000:201"), "192.0.2.1");
  assert.equal(normalizeIp("2001:0db8:0:0::1"), "2001:db8::1");
});

Deno.test("bindEitherStack binds :: first, falls back to 0.0.0.0 without IPv6, and keeps a port in use an error", () => {
  assert.equal(bindEitherStack((hostname) => hostname), "::");
  const tried: string[] = [];
  const fallback = bindEitherStack((hostname) => {
    tried.push(hostname);
    if (hostname === "::") {
      throw new Error("Address family not supported by protocol (os error 97)");
    }
    return hostname;
  });
  assert.equal(fallback, "0.0.0.0");
  assert.deepEqual(tried, ["::", "0.0.0.0"]);
  assert.throws(
    () =>
      bindEitherStack((hostname) => {
        if (hostname === "::") throw new Deno.errors.AddrInUse("Address in use");
        return hostname;
      }),
    Deno.errors.AddrInUse,
  );
});
