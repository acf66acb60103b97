import assert from "node:assert/strict";
import { isPrivateIpv4 } from "./addresses.ts";

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
