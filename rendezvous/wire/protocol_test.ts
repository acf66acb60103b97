import { addr, assert, assertEquals, assertThrows, bytes, SAMPLES } from "../testing/mod.ts";
import { ProtocolError } from "../../base/mod.ts";
import {
  decodeMessage,
  encodeMessage,
  isRendezvousDatagram,
  MAX_REPLY_SIZE,
  type RegisterMessage,
  RENDEZVOUS_MAGIC,
  type RendezvousMessage,
} from "./protocol.ts";
import { parseNameplate } from "./_fields.ts";

Deno.test("encodeMessage and decodeMessage round-trip every message type", () => {
  for (const message of SAMPLES) {
    assertEquals(decodeMessage(encodeMessage(message)), message);
    assertEquals(decodeMessage(encodeMessage(message, { padTo: 500 })), message);
  }
});

Deno.test("every datagram starts with P2RV and version 4", () => {
  for (const message of SAMPLES) {
    const data = encodeMessage(message);
    assertEquals([...data.subarray(0, 5)], [0x50, 0x32, 0x52, 0x56, 4]);
    assert(isRendezvousDatagram(data));
  }
  assertEquals(new TextDecoder().decode(RENDEZVOUS_MAGIC), "P2RV");
});

Deno.test("isRendezvousDatagram tells rendezvous datagrams from punch probes", () => {
  assert(!isRendezvousDatagram(new TextEncoder().encode("P2PB\x01rest")));
  assert(!isRendezvousDatagram(new TextEncoder().encode("P2R")));
  assert(!isRendezvousDatagram(new Uint8Array(0)));
  assert(isRendezvousDatagram(new TextEncoder().encode("P2RV")));
});

Deno.test("padding makes a datagram exactly padTo long and the biggest reply fits MAX_REPLY_SIZE", () => {
  assertEquals(encodeMessage(SAMPLES[0], { padTo: MAX_REPLY_SIZE }).length, MAX_REPLY_SIZE);
  assertEquals(encodeMessage(SAMPLES[22]).length, MAX_REPLY_SIZE);
  assertEquals(MAX_REPLY_SIZE, 334);
});

Deno.test("decodeMessage ignores unknown fields", () => {
  const data = encodeMessage(SAMPLES[3]);
  const extended = new Uint8Array(data.length + 8);
  extended.set(data);
  extended.set([0x7f, 0, 5, 1, 2, 3, 4, 5], data.length);
  assertEquals(decodeMessage(extended), SAMPLES[3]);
});

function rejects(data: Uint8Array, pattern: string) {
  const error = assertThrows(
    () => decodeMessage(data, { from: addr("203.0.113.5", 4000) }),
    ProtocolError,
  );
  assert(error.message.includes(pattern), `${error.message} lacks ${pattern}`);
  assert(error.message.startsWith("Cannot decode datagram from 203.0.113.5:4000: "), error.message);
}

Deno.test("decodeMessage rejects oversized datagrams before any other check", () => {
  rejects(new Uint8Array(70000), "length 70000 exceeds limit of 1200 bytes");
  rejects(new Uint8Array(1201), "length 1201 exceeds limit of 1200 bytes");
});

Deno.test("decodeMessage rejects bad headers, versions and message types", () => {
  rejects(new Uint8Array(3), "shorter than the 6-byte header");
  rejects(new TextEncoder().encode("P2PB\x01\x01"), "magic");
  rejects(new TextEncoder().encode("P2RV\x01\x01"), "unsupported protocol version 1");
  rejects(new TextEncoder().encode("P2RV\x02\x01"), "unsupported protocol version 2");
  rejects(new TextEncoder().encode("P2RV\x03\x01"), "unsupported protocol version 3");
  rejects(new TextEncoder().encode("P2RV\x05\x01"), "unsupported protocol version 5");
  rejects(new TextEncoder().encode("P2RV\x04\x55"), "unknown message type 0x55");
});

Deno.test("decodeMessage rejects truncated, duplicate, missing and invalid fields", () => {
  const waiting = encodeMessage(SAMPLES[3]);
  rejects(waiting.subarray(0, waiting.length - 1), "past the end");
  rejects(waiting.subarray(0, 8), "truncated field header");
  const duplicated = new Uint8Array(waiting.length + 19);
  duplicated.set(waiting);
  duplicated.set(waiting.subarray(6, 25), waiting.length); // the client id field again
  rejects(duplicated, "duplicate field clientId");
  rejects(waiting.subarray(0, 6 + 19), "lacks field nameplate");
  const badPlate = waiting.slice();
  badPlate.set([0, 0, 0, 0], 6 + 19 + 3);
  rejects(badPlate, "nameplate 0 is out of range");
  const badLength = new Uint8Array([...waiting.subarray(0, 6), 0x02, 0, 15, ...new Uint8Array(15)]);
  rejects(badLength, "field clientId has invalid length 15");
  const portZero = waiting.slice();
  portZero.set([0, 0], waiting.length - 2);
  rejects(portZero, "port 0");
  const register = encodeMessage(SAMPLES[1]);
  const badRole = register.slice();
  badRole[9] = 3;
  rejects(badRole, "invalid role 3");
});

Deno.test("decodeMessage rejects a receive registration without a nameplate", () => {
  const data = encodeMessage(SAMPLES[1]);
  // Replace the nameplate field (after role and client id) with padding.
  const start = 6 + 4 + 19;
  const patched = data.slice();
  patched[start] = 0x00;
  rejects(patched, "lacks field nameplate");
});

Deno.test("decodeMessage copies the bytes it keeps", () => {
  const data = encodeMessage(SAMPLES[3]);
  const message = decodeMessage(data);
  data.fill(0);
  assertEquals(message, SAMPLES[3]);
});

Deno.test("encodeMessage rejects values the wire cannot carry", () => {
  const base = SAMPLES[0] as Extract<RendezvousMessage, { type: "register" }>;
  assertThrows(() => encodeMessage({ ...base, clientId: bytes(15, 0) }), RangeError, "client id");
  assertThrows(
    () => encodeMessage({ ...base, candidates: [addr("::ffff:1.2.3.4", 5)] }),
    TypeError,
    "IPv4-mapped",
  );
  assertThrows(
    () => encodeMessage({ ...base, candidates: [addr("fe80::1%eth0", 5)] }),
    TypeError,
    "IPv6",
  );
  assertThrows(
    () => encodeMessage({ ...base, candidates: [addr("1.2.3.4", 0)] }),
    RangeError,
    "port 0",
  );
  assertThrows(
    () => encodeMessage({ ...base, candidates: Array(9).fill(addr("1.2.3.4", 5)) }),
    RangeError,
    "at most 8",
  );
  assertThrows(() => encodeMessage({ ...base, nameplate: "007" }), TypeError, "nameplate");
  assertThrows(() => encodeMessage({ ...base, role: "receive" }), TypeError, "needs a nameplate");
  assertThrows(() => encodeMessage(base, { padTo: 1201 }), RangeError, "padTo");
});

Deno.test("parseNameplate accepts 1..99999 without leading zeros", () => {
  assertEquals(parseNameplate("1"), 1);
  assertEquals(parseNameplate("99999"), 99999);
  for (const bad of ["0", "007", "100000", "", "7a", " 7", "-1"]) {
    assertThrows(() => parseNameplate(bad), TypeError, "Invalid nameplate");
  }
});

Deno.test("decodeMessage rejects an unknown NAT mapping and port 0 in altPort or relayPort", () => {
  const register = encodeMessage(SAMPLES[0]);
  const badNat = register.slice();
  assertEquals(badNat[badNat.length - 4], 0x0e); // the nat field comes last
  badNat[badNat.length - 1] = 4;
  rejects(badNat, "unknown NAT mapping 4");
  const observation = encodeMessage(SAMPLES[8]);
  const altZero = observation.slice();
  altZero.set([0, 0], observation.length - 7); // altPort value, before the relayPort field
  rejects(altZero, "field altPort holds port 0");
  const relayZero = observation.slice();
  relayZero.set([0, 0], observation.length - 2);
  rejects(relayZero, "field relayPort holds port 0");
});

Deno.test("every reply to observe and relay-hello is shorter than MAX_REPLY_SIZE", () => {
  const replies = SAMPLES.filter((m) =>
    ["observation", "relay-ready", "relay-waiting", "error"].includes(m.type)
  );
  assertEquals(replies.length, 9);
  for (const reply of replies) assert(encodeMessage(reply).length < MAX_REPLY_SIZE);
});

Deno.test("encodeMessage rejects an invalid NAT mapping or relay port", () => {
  const base = SAMPLES[0] as Extract<RendezvousMessage, { type: "register" }>;
  assertThrows(
    // deno-lint-ignore no-explicit-any
    () => encodeMessage({ ...base, nat: "symmetric" as any }),
    TypeError,
    "Invalid NAT mapping",
  );
  const observation = SAMPLES[8] as Extract<RendezvousMessage, { type: "observation" }>;
  assertThrows(() => encodeMessage({ ...observation, relayPort: 0 }), RangeError, "relayPort 0");
});

Deno.test("relayOnly rides on register's flags and reaches the peer as peerFlags, only without candidates", () => {
  const relayOnly = SAMPLES[28] as RegisterMessage;
  const flags = encodeMessage({ ...relayOnly, relayOnly: undefined, poll: true });
  assertEquals(decodeMessage(encodeMessage({ ...relayOnly, poll: true })), {
    ...relayOnly,
    poll: true,
  });
  assertEquals("relayOnly" in decodeMessage(flags), false);
  // A peer's paired with the flag is no bigger than the biggest paired: it has no candidates.
  assert(encodeMessage(SAMPLES[29]).length < MAX_REPLY_SIZE);
  // Beside candidates the flag is refused on the way out and ignored on the way in.
  const withCandidates = { ...relayOnly, candidates: [addr("192.168.1.9", 5000)] };
  assertThrows(() => encodeMessage(withCandidates), TypeError, "carries no candidates");
  const forged = encodeMessage({ ...withCandidates, relayOnly: undefined, poll: true });
  forged[forged.indexOf(0x0d) + 3] = 0x03; // flags: poll and relay only
  assertEquals((decodeMessage(forged) as RegisterMessage).relayOnly, undefined);
});

Deno.test("waitsForSender rides on a receiver's register flags and is dropped from a sender's", () => {
  const waits = SAMPLES[30] as RegisterMessage;
  assertEquals(decodeMessage(encodeMessage({ ...waits, poll: true })), { ...waits, poll: true });
  const sender = encodeMessage({ ...waits, role: "send" });
  assertEquals("waitsForSender" in decodeMessage(sender), false);
  const forged = encodeMessage({ ...waits, role: "send", poll: true });
  forged[forged.indexOf(0x0d) + 3] = 0x05; // flags: poll and waits, on a sender's register
  assertEquals((decodeMessage(forged) as RegisterMessage).waitsForSender, undefined);
});
