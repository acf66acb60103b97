import { parseHostPort } from "./parse_host_port.ts";
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
    ["[::1", "missing ]"],
    ["[::1]9000", "expected :port"],
    ["bad host:9000", "is not a valid host name"],
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
