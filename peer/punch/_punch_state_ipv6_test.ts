import assert from "node:assert/strict";
import { IPV6_PREFERENCE_MS, type Outgoing, PunchState } from "./_punch_state.ts";
import { sameAddr } from "../../base/mod.ts";
import { decodeProbe, encodeProbe } from "./probe.ts";

const TOKEN = new Uint8Array(16).fill(7);
const SENDER_ID = new Uint8Array(16).fill(1);
const RECEIVER_ID = new Uint8Array(16).fill(2);

function addr(hostname: string, port = 5000): Deno.NetAddr {
  return { transport: "udp", hostname, port };
}

/**
 * A receiver probing `hostnames` (port 5000) whose first probe round gets
 * acks at the given times (ms after the round went out, which is at 0);
 * returns the path it chose once the grace period is over.
 */
function choose(
  hostnames: string[],
  acks: Array<{ from: string; at: number }>,
  onLinkPrefixes?: string[],
) {
  const receiver = new PunchState({
    onLinkPrefixes,
    role: "receiver",
    token: TOKEN,
    selfId: RECEIVER_ID,
    peerId: SENDER_ID,
    candidates: hostnames.map((hostname) => ({ addr: addr(hostname), source: "private" })),
  });
  const round: Outgoing[] = receiver.tick(0);
  for (const { from, at } of [...acks].sort((a, b) => a.at - b.at)) {
    const probe = round.find((out) => sameAddr(out.to, addr(from)));
    assert.ok(probe, `no probe went to ${from}`);
    const ack = encodeProbe({
      type: "ack",
      token: TOKEN,
      from: SENDER_ID,
      nonce: decodeProbe(probe.data).nonce,
    });
    receiver.receive(ack, addr(from), at);
  }
  for (let now = 5; now <= 1000 && !receiver.chosen; now += 5) receiver.tick(now);
  return receiver.chosen;
}

Deno.test("PunchState prefers a direct IPv6 path that answers within the window after IPv4", () => {
  const chosen = choose(["203.0.113.1", "2001:db8::1"], [
    { from: "203.0.113.1", at: 20 },
    { from: "2001:db8::1", at: 20 + IPV6_PREFERENCE_MS },
  ]);
  assert.deepEqual(chosen?.remote, addr("2001:db8::1"));
  assert.equal(chosen?.path, "direct");
  assert.equal(chosen?.rttMs, 20 + IPV6_PREFERENCE_MS);
});

Deno.test("PunchState keeps the first direct IPv4 path when IPv6 answers after the window", () => {
  const chosen = choose(["203.0.113.1", "2001:db8::1"], [
    { from: "203.0.113.1", at: 20 },
    { from: "2001:db8::1", at: 21 + IPV6_PREFERENCE_MS },
  ]);
  assert.deepEqual(chosen?.remote, addr("203.0.113.1"));
});

Deno.test("PunchState takes an IPv6 path that answers first, and the first of two IPv6 paths", () => {
  assert.deepEqual(
    choose(["203.0.113.1", "2001:db8::1"], [
      { from: "2001:db8::1", at: 20 },
      { from: "203.0.113.1", at: 22 },
    ])?.remote,
    addr("2001:db8::1"),
  );
  assert.deepEqual(
    choose(["203.0.113.1", "2001:db8::1", "2001:db8::2"], [
      { from: "203.0.113.1", at: 20 },
      { from: "2001:db8::2", at: 24 },
      { from: "2001:db8::1", at: 30 },
    ])?.remote,
    addr("2001:db8::2"),
  );
});

Deno.test("PunchState ranks a unique-local IPv6 path as LAN, ahead of public IPv6", () => {
  const chosen = choose(["2001:db8::1", "fd00::2"], [
    { from: "2001:db8::1", at: 20 },
    { from: "fd00::2", at: 200 },
  ]);
  assert.deepEqual(chosen?.remote, addr("fd00::2"));
  assert.equal(chosen?.path, "lan");
});

Deno.test("PunchState ranks a private IPv4 path ahead of a faster public IPv6 one", () => {
  const chosen = choose(["192.168.1.10", "2001:db8::1"], [
    { from: "2001:db8::1", at: 5 },
    { from: "192.168.1.10", at: 100 },
  ]);
  assert.deepEqual(chosen?.remote, addr("192.168.1.10"));
  assert.equal(chosen?.path, "lan");
});

Deno.test("PunchState matches an ack from an IPv4-mapped source to its IPv4 candidate", () => {
  const chosen = choose(["203.0.113.1"], [{ from: "::ffff:203.0.113.1", at: 20 }]);
  assert.deepEqual(chosen?.remote, addr("203.0.113.1"));
});

Deno.test("PunchState ranks a global IPv6 address inside our own prefix as LAN (an IPv6-only LAN)", () => {
  const acks = [{ from: "2001:db8:a::11", at: 2 }];
  assert.equal(choose(["2001:db8:a::11"], acks)?.path, "direct");
  assert.equal(choose(["2001:db8:a::11"], acks, ["2001:db8:a::10/64"])?.path, "lan");
  assert.equal(
    choose(["2001:db8:b::11"], [{ from: "2001:db8:b::11", at: 2 }], [
      "2001:db8:a::10/64",
    ])?.path,
    "direct",
  );
});
