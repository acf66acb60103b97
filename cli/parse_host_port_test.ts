import { parseHostPort } from "./parse_host_port.ts";
import { rendezvousAddresses } from "./rendezvous_address.ts";
import assert from "node:assert/strict";

Deno.test("parseHostPort splits host and port", () => {
  assert.deepEqual(parseHostPort("127.0.0.1:9000"), { hostname: "127.0.0.1", port: 9000 });
  assert.deepEqual(parseHostPort("relay.example.org:65535"), {
    hostname: "relay.example.org",
    port: 65535,
  });
  assert.deepEqual(parseHostPort("[::1]:9000"), { hostname: "::1", port: 9000 });
  assert.deepEqual(parseHostPort(" 10.0.0.1:1 "), { hostname: "10.0.0.1", port: 1 });
});

Deno.test("parseHostPort uses the default port when the text has none", () => {
  assert.deepEqual(parseHostPort("127.0.0.1", 9000), { hostname: "127.0.0.1", port: 9000 });
  assert.deepEqual(parseHostPort("[::1]", 9000), { hostname: "::1", port: 9000 });
});

Deno.test("parseHostPort rejects bad input with a TypeError naming it", () => {
  const cases: [string, string][] = [
    ["", "it is empty"],
    ["127.0.0.1", "the port is missing"],
    [":9000", "the host is missing"],
    ["127.0.0.1:", 'port "" is not a number'],
    ["127.0.0.1:http", 'port "http" is not a number'],
    ["127.0.0.1:0", "port 0 is not a number from 1 to 65535"],
    ["127.0.0.1:65536", "port 65536"],
    ["127.0.0.1:-5", 'port "-5"'],
    ["::1:9000", "put an IPv6 address in brackets"],
    ["http://example.org:9000", "give host:port without http://"],
    ["udp://[::1]:9000", "give host:port without udp://"],
    ["[::1", "missing ]"],
    ["[::1]9000", "expected :port"],
    ["bad host:9000", "is not a valid host name"],
    ["a..b:9000", "an empty label"],
    [".a:9000", "an empty label"],
    ["-x.example:9000", 'label "-x"'],
    ["x-.example:9000", 'label "x-"'],
    [`${"a".repeat(64)}.example:9000`, `label "${"a".repeat(64)}"`],
  ];
  for (const [text, why] of cases) {
    assert.throws(
      () => parseHostPort(text),
      (error) =>
        error instanceof TypeError && error.message.includes(why) &&
        error.message.startsWith(`Invalid address ${JSON.stringify(text)}: `),
      text,
    );
  }
});

Deno.test("parseHostPort gives an IPv6 address in brackets back in its canonical text", () => {
  assert.deepEqual(parseHostPort("[2001:db8::10]:9000"), { hostname: "2001:db8::10", port: 9000 });
  assert.deepEqual(parseHostPort("[2001:DB8:0:0:0:0:0:10]:1"), {
    hostname: "2001:db8::10",
    port: 1,
  });
  assert.deepEqual(parseHostPort("[::]:9000"), { hostname: "::", port: 9000 });
  assert.deepEqual(parseHostPort("[2001:db8::10]", 9000), { hostname: "2001:db8::10", port: 9000 });
});

Deno.test("parseHostPort rejects malformed brackets and non-IPv6 text in them, in one line", () => {
  const cases: [string, string][] = [
    ["[]:9000", "nothing between [ and ]"],
    ["[1.2.3.4]:9000", "is not an IPv6 address"],
    ["[2001:db8::g]:9000", "is not an IPv6 address"],
    ["[1::2::3]:9000", "is not an IPv6 address"],
    ["[fe80::1%eth0]:9000", "zone ids"],
    ["[::ffff:1.2.3.4]:9000", "IPv4-mapped"],
    ["2001:db8::10]:9000", "brackets go around an IPv6 address at the start"],
    ["2001:db8::10:9000", "put an IPv6 address in brackets"],
    ["host]:9000", "brackets go around an IPv6 address"],
    ["a[::1]:9000", "brackets go around an IPv6 address"],
    ["[::1]]:9000", "expected :port after ]"],
    ["[::1]:", 'port "" is not a number'],
  ];
  for (const [text, why] of cases) {
    assert.throws(
      () => parseHostPort(text),
      (error) =>
        error instanceof TypeError && error.message.includes(why) &&
        !error.message.includes("\n") &&
        error.message.startsWith(`Invalid address ${JSON.stringify(text)}: `),
      text,
    );
  }
});

Deno.test("parseHostPort takes host names up to RFC 1123's limits, and a trailing dot", () => {
  for (const hostname of [`${"a".repeat(63)}.example`, "x-1.example.", "localhost", "9x"]) {
    assert.deepEqual(parseHostPort(`${hostname}:1`), { hostname, port: 1 });
  }
});

Deno.test("a --rendezvous list mixes names, IPv4 and bracketed IPv6 addresses", () => {
  assert.deepEqual(rendezvousAddresses("a.example:9000,[::1]:9001, 127.0.0.1,[2001:db8::10]"), [
    { hostname: "a.example", port: 9000 },
    { hostname: "::1", port: 9001 },
    { hostname: "127.0.0.1", port: 9000 },
    { hostname: "2001:db8::10", port: 9000 },
  ]);
  assert.throws(() => rendezvousAddresses("a:9000,[::1:9000"), /missing \]/);
});
