import assert from "node:assert/strict";
import type { Pairing } from "../rendezvous/mod.ts";
import { privateTargets } from "./_tcp_only.ts";

const udp = (hostname: string, port: number): Deno.NetAddr => ({
  transport: "udp",
  hostname,
  port,
});

function pairing(candidates: Deno.NetAddr[], observed: Deno.NetAddr): Pairing {
  return {
    nameplate: "7",
    selfId: new Uint8Array(16),
    token: new Uint8Array(16),
    observed: udp("203.0.113.9", 4000),
    peer: { id: new Uint8Array(16), observed, candidates },
    nat: { self: "endpoint-independent", peer: "endpoint-independent" },
    transport: { self: "tcp", peer: "udp" },
  };
}

Deno.test("privateTargets dials the peer's private IPv4 and unique-local IPv6 addresses over TCP", () => {
  const targets = privateTargets(pairing(
    [udp("192.168.1.20", 5000), udp("2001:db8::20", 5000), udp("fd00::20", 5000)],
    udp("203.0.113.5", 61000),
  ));
  assert.deepEqual(targets.map((t) => `${t.transport} ${t.hostname} ${t.port}`), [
    "tcp 192.168.1.20 5000",
    "tcp fd00::20 5000",
  ]);
});

Deno.test("privateTargets adds a private observed address with the candidates' port", () => {
  const targets = privateTargets(pairing([udp("fd00::20", 5000)], udp("::1", 61000)));
  assert.deepEqual(targets.map((t) => `${t.hostname} ${t.port}`), ["fd00::20 5000", "::1 5000"]);
});
