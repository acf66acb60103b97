import assert from "node:assert/strict";
import { concatBytes, ProtocolError } from "../base/mod.ts";
import {
  decodeDnsMessage,
  type DnsMessage,
  type DnsRecord,
  encodeDnsMessage,
  MAX_MESSAGE_SIZE,
} from "./dns.ts";
import { SAMPLE_MESSAGES } from "./_testing_samples.ts";

const ascii = (text: string) => Array.from(text, (c) => c.charCodeAt(0));
const header = (flags: number, counts: number[]) => [
  0x12,
  0x34,
  flags >> 8,
  flags & 0xff,
  ...counts.flatMap((c) => [c >> 8, c & 0xff]),
];

function rejects(bytes: number[] | Uint8Array, pattern: RegExp): void {
  assert.throws(
    () => decodeDnsMessage(Uint8Array.from(bytes)),
    (error) => error instanceof ProtocolError && pattern.test(error.message),
  );
}

Deno.test("decodeDnsMessage follows compression pointers and reads QU and cache-flush bits", () => {
  const bytes = Uint8Array.from([
    ...header(0x8400, [1, 2, 0, 0]),
    // offset 12: question "a.local" PTR, class IN with the QU bit
    1,
    ...ascii("a"),
    5,
    ...ascii("local"),
    0,
    0x00,
    0x0c,
    0x80,
    0x01,
    // record: name -> offset 12, PTR to "b" + pointer to offset 12
    0xc0,
    12,
    0x00,
    0x0c,
    0x00,
    0x01,
    0,
    0,
    0x11,
    0x94,
    0,
    4,
    1,
    ...ascii("b"),
    0xc0,
    12,
    // record: name "x" + pointer, A with the cache-flush bit
    1,
    ...ascii("x"),
    0xc0,
    12,
    0x00,
    0x01,
    0x80,
    0x01,
    0,
    0,
    0,
    120,
    0,
    4,
    10,
    0,
    0,
    1,
  ]);
  const message = decodeDnsMessage(bytes);
  assert.deepEqual(
    message,
    {
      id: 0x1234,
      response: true,
      authoritative: true,
      questions: [{ name: "a.local", type: 12, class: 1, unicastResponse: true }],
      answers: [
        { name: "a.local", ttl: 4500, cacheFlush: false, kind: "PTR", target: "b.a.local" },
        { name: "x.a.local", ttl: 120, cacheFlush: true, kind: "A", address: "10.0.0.1" },
      ],
      authorities: [],
      additionals: [],
    } satisfies DnsMessage,
  );
  // Re-encoding writes the names out in full, and reads back the same.
  assert.deepEqual(decodeDnsMessage(encodeDnsMessage(message)), message);
});

Deno.test("decodeDnsMessage rejects a pointer to itself and a pointer forward", () => {
  rejects([...header(0, [1, 0, 0, 0]), 0xc0, 12, 0, 1, 0, 1], /does not point back/);
  rejects([...header(0, [1, 0, 0, 0]), 0xc0, 14, 0, 1, 0, 1, 0], /does not point back/);
  // Two labels pointing at each other: the second jump is not further back than the first.
  rejects(
    [...header(0, [2, 0, 0, 0]), 1, 97, 0xc0, 18, 0, 1, 0, 1, 1, 98, 0xc0, 12, 0, 1, 0, 1],
    /does not point back/,
  );
});

Deno.test("decodeDnsMessage rejects a name longer than 255 bytes, even built from pointers", () => {
  const label = [63, ...Array(63).fill(97)];
  rejects(
    [...header(0, [1, 0, 0, 0]), ...label, ...label, ...label, ...label, 0, 0, 1, 0, 1],
    /longer than 255/,
  );
  // 3 labels, then a 4th name that adds one more label in front of a pointer to them.
  const three = [...label, ...label, ...label, 0];
  rejects(
    [...header(0, [2, 0, 0, 0]), ...three, 0, 1, 0, 1, ...label, 0xc0, 12, 0, 1, 0, 1],
    /longer than 255/,
  );
});

Deno.test("decodeDnsMessage rejects oversize messages and counts the bytes cannot hold, before reading", () => {
  rejects(new Uint8Array(MAX_MESSAGE_SIZE + 1), /exceeds the limit of 9000/);
  rejects(header(0, [0, 0xffff, 0, 0]), /need at least 720885 bytes, 0 follow/);
  rejects([0, 0, 0], /header needs 12/);
});

Deno.test("decodeDnsMessage rejects other opcodes, error codes, truncation and trailing bytes", () => {
  rejects(header(0x2800, [0, 0, 0, 0]), /opcode 5/);
  rejects(header(0x8403, [0, 0, 0, 0]), /response code 3/);
  rejects([...header(0, [1, 0, 0, 0]), 1, 97, 0, 0, 1], /question at byte 15/);
  rejects([...header(0, [0, 0, 0, 0]), 0], /1 bytes follow the last record/);
  rejects(
    [...header(0, [0, 1, 0, 0]), 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 3, 1, 2, 3],
    /an A record has 4/,
  );
  rejects([...header(0, [1, 0, 0, 0]), 2, 0xc3, 0x28, 0, 0, 1, 0, 1], /not UTF-8/);
  rejects([...header(0, [1, 0, 0, 0]), 0x40, 0, 0, 1, 0, 1], /label type 0x40/);
});

Deno.test("a TXT record with no data reads as one empty string (RFC 6763 §6.1)", () => {
  const message = decodeDnsMessage(
    Uint8Array.from([...header(0x8400, [0, 1, 0, 0]), 0, 0, 16, 0, 1, 0, 0, 0, 1, 0, 0]),
  );
  assert.deepEqual(message.answers, [
    { name: "", ttl: 1, cacheFlush: false, kind: "TXT", strings: [new Uint8Array(0)] },
  ]);
});

Deno.test("names keep dots and backslashes inside labels through encode and decode", () => {
  const message: DnsMessage = {
    ...SAMPLE_MESSAGES.query,
    questions: [{
      name: "My\\.Printer\\\\2._ipp._tcp.local",
      type: 33,
      class: 1,
      unicastResponse: false,
    }],
  };
  const encoded = encodeDnsMessage(message);
  assert.deepEqual(encoded.subarray(12, 25), Uint8Array.from([12, ...ascii("My.Printer\\2")]));
  assert.deepEqual(decodeDnsMessage(encoded), message);
});

Deno.test("encodeDnsMessage refuses values the wire cannot carry, naming them", () => {
  const with_ = (answers: DnsMessage["answers"]) => ({ ...SAMPLE_MESSAGES.announce, answers });
  const base = { name: "h.local", ttl: 120, cacheFlush: true } as const;
  assert.throws(
    () => encodeDnsMessage(with_([{ ...base, kind: "A", address: "300.1.1.1" }])),
    /IPv4 octet 300/,
  );
  assert.throws(
    () => encodeDnsMessage(with_([{ ...base, kind: "A", address: "::1" }])),
    /not IPv4/,
  );
  assert.throws(
    () => encodeDnsMessage(with_([{ ...base, kind: "AAAA", address: "1::2::3" }])),
    /not IPv6/,
  );
  assert.throws(
    () => encodeDnsMessage(with_([{ ...base, name: "a..b", kind: "A", address: "1.2.3.4" }])),
    /label "" is 0 bytes/,
  );
  assert.throws(
    () =>
      encodeDnsMessage(with_([{ ...base, name: "x".repeat(64), kind: "A", address: "1.2.3.4" }])),
    /is 64 bytes/,
  );
  assert.throws(
    () => encodeDnsMessage(with_([{ ...base, ttl: -1, kind: "A", address: "1.2.3.4" }])),
    /ttl -1/,
  );
  const big = { ...base, kind: "TXT", strings: Array(40).fill(new Uint8Array(250)) } as const;
  assert.throws(() => encodeDnsMessage(with_([big])), /10071 bytes exceed the limit of 9000/);
});

Deno.test("AAAA addresses encode from any spelling and decode to the canonical one (RFC 5952)", () => {
  const cases: [string, string][] = [
    ["fe80::1:2", "fe80::1:2"],
    ["2001:DB8:0:0:0:0:0:10", "2001:db8::10"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // the first of two equal runs
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // one zero group stays
    ["fd00:0000:0000:0000:0000:0000:0000:0001", "fd00::1"],
    ["0:0:0:0:0:0:0:0", "::"],
    ["::ffff:10.0.0.1", "::ffff:10.0.0.1"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
  ];
  for (const [written, canonical] of cases) {
    const record = { name: "h.local", ttl: 120, cacheFlush: true, kind: "AAAA", address: written };
    const message = { ...SAMPLE_MESSAGES.announce, answers: [record as DnsRecord] };
    const decoded = decodeDnsMessage(encodeDnsMessage(message));
    assert.deepEqual(decoded.answers[0], { ...record, address: canonical }, written);
  }
  for (
    const bad of [
      "1::2::3",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "::1:2:3:4:5:6:7:8",
      "12345::",
      "::300.1.1.1",
      "fe80::1%eth0",
    ]
  ) {
    assert.throws(
      () =>
        encodeDnsMessage({
          ...SAMPLE_MESSAGES.announce,
          answers: [{ name: "h.local", ttl: 1, cacheFlush: false, kind: "AAAA", address: bad }],
        }),
      /Cannot encode AAAA record: .* is not IPv6/,
      bad,
    );
  }
});

Deno.test("decodeDnsMessage rejects an AAAA record whose data is not 16 bytes", () => {
  const encoded = encodeDnsMessage({
    ...SAMPLE_MESSAGES.announce,
    answers: [{ name: "h.local", ttl: 120, cacheFlush: true, kind: "AAAA", address: "fd00::1" }],
  });
  // The record's RDLENGTH is the two bytes before its 16 bytes of data: claim 15 and cut one.
  const short = encoded.slice(0, encoded.length - 1);
  new DataView(short.buffer).setUint16(short.length - 17, 15);
  assert.throws(
    () => decodeDnsMessage(short),
    (e) => e instanceof ProtocolError && /15 bytes of data, an AAAA record has 16/.test(e.message),
  );
  const long = concatBytes([encoded, new Uint8Array(1)]);
  new DataView(long.buffer).setUint16(long.length - 19, 17);
  assert.throws(
    () => decodeDnsMessage(long),
    (e) => e instanceof ProtocolError && /17 bytes of data, an AAAA record has 16/.test(e.message),
  );
});
