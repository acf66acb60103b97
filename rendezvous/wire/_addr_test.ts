import { addr, assert, assertEquals, assertThrows, bytes, SAMPLES } from "../testing/mod.ts";
import { ProtocolError } from "../../base/mod.ts";
import { decodeAddr, decodeAddrs, encodeAddr, encodeAddrs, isEncodableAddr } from "./_addr.ts";
import { decodeMessage, encodeMessage, MAX_REPLY_SIZE } from "./protocol.ts";

const fail = (why: string): never => {
  throw new ProtocolError(why);
};

Deno.test("encodeAddr writes family 4 or 6, the address, then the port", () => {
  assertEquals([...encodeAddr(addr("192.0.2.1", 0x1234))], [4, 192, 0, 2, 1, 0x12, 0x34]);
  assertEquals(
    [...encodeAddr(addr("2001:db8::1", 9000))],
    [6, 0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1, 0x23, 0x28],
  );
});

Deno.test("IPv6 addresses decode to their RFC 5952 text", () => {
  // Every spelling rule is ../../base/ip_test.ts's; here, that the decoder writes through it.
  const cases: [string, string][] = [
    ["2001:0db8:0000:0001:0000:0000:0000:0001", "2001:db8:0:1::1"],
    ["::1", "::1"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
  ];
  for (const [given, canonical] of cases) {
    const decoded = decodeAddr(encodeAddr(addr(given, 1)), "observed", fail);
    assertEquals(decoded, addr(canonical, 1), given);
  }
});

Deno.test("encodeAddr refuses what is not one IPv4 or IPv6 address", () => {
  for (
    // Every parsing rule is ../../base/ip_test.ts's; here, that encodeAddr goes through it.
    const bad of ["1::2::3", "fe80::1%eth0", "[::1]", "01.2.3.4", ""]
  ) {
    assert(!isEncodableAddr(addr(bad, 1)), bad);
  }
});

Deno.test("a candidate list mixes IPv4 and IPv6 and round-trips", () => {
  const list = [addr("10.0.0.1", 1), addr("2001:db8::a", 2), addr("192.168.0.9", 3)];
  const encoded = encodeAddrs(list);
  assertEquals(encoded.length, 7 + 19 + 7);
  assertEquals(decodeAddrs(encoded, "candidates", fail), list);
  const eight = Array.from({ length: 8 }, (_, i) => addr(`2001:db8::${i + 1}`, 10 + i));
  assertEquals(decodeAddrs(encodeAddrs(eight), "candidates", fail), eight);
});

Deno.test("IPv4-mapped IPv6 addresses are refused on both sides", () => {
  assertThrows(() => encodeAddr(addr("::ffff:127.0.0.1", 1)), TypeError, "IPv4-mapped");
  assertThrows(() => encodeAddr(addr("::FFFF:7f00:1", 1)), TypeError, "IPv4-mapped");
  assert(!isEncodableAddr(addr("::ffff:10.0.0.1", 1)));
  const mapped = encodeAddr(addr("2001:db8::1", 1));
  mapped.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1], 1);
  assertThrows(() => decodeAddr(mapped, "observed", fail), ProtocolError, "IPv4-mapped");
});

Deno.test("address decoders reject unknown families, wrong lengths and too many addresses", () => {
  const v4 = encodeAddr(addr("192.0.2.1", 1));
  const v6 = encodeAddr(addr("2001:db8::1", 1));
  const badFamily = v4.slice();
  badFamily[0] = 5;
  assertThrows(() => decodeAddr(badFamily, "observed", fail), ProtocolError, "unknown family 5");
  // A family byte that disagrees with the field's length.
  const sixAsFour = v6.slice();
  sixAsFour[0] = 4;
  assertThrows(
    () => decodeAddr(sixAsFour, "observed", fail),
    ProtocolError,
    "has 19 bytes, but an address of family 4 takes 7",
  );
  const fourAsSix = v4.slice();
  fourAsSix[0] = 6;
  assertThrows(() => decodeAddr(fourAsSix, "observed", fail), ProtocolError, "family 6 takes 19");
  assertThrows(
    () => decodeAddrs(Uint8Array.of(...v4, ...v6.subarray(0, 10)), "candidates", fail),
    ProtocolError,
    "inside an address",
  );
  const nine = new Uint8Array(9 * 7);
  for (let i = 0; i < 9; i++) nine.set(v4, i * 7);
  assertThrows(() => decodeAddrs(nine, "candidates", fail), ProtocolError, "more than 8");
});

Deno.test("decodeMessage rejects address fields of a length no address has", () => {
  const waiting = encodeMessage({
    type: "waiting",
    clientId: bytes(16, 1),
    nameplate: "1",
    observed: addr("192.0.2.1", 5),
  });
  // The observed field is last: tag, length 7, value. Claim 6 bytes (the version-3 size).
  const short = Uint8Array.of(
    ...waiting.subarray(0, waiting.length - 10),
    0x07,
    0,
    6,
    192,
    0,
    2,
    1,
    0,
    5,
  );
  assertThrows(() => decodeMessage(short), ProtocolError, "field observed has invalid length 6");
  const register = encodeMessage(SAMPLES[23]);
  const long = Uint8Array.of(...register, 0x0a, 0, 153, ...new Uint8Array(153));
  assertThrows(
    () => decodeMessage(long),
    ProtocolError,
    "field peerCandidates has invalid length 153",
  );
});

Deno.test("every IPv6 sample round-trips and none is longer than MAX_REPLY_SIZE", () => {
  // Samples 22-26 are the IPv6 ones (v4 of the wire); later samples are of other fields.
  const v6 = SAMPLES.slice(22, 27);
  assertEquals(v6.length, 5);
  for (const sample of v6) {
    const encoded = encodeMessage(sample);
    assert(encoded.length <= MAX_REPLY_SIZE);
    assertEquals(decodeMessage(encoded), sample);
  }
});
