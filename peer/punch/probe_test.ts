import assert from "node:assert/strict";
import { ProtocolError } from "../../base/mod.ts";
import { decodeProbe, encodeProbe, MAX_PROBE_BYTES, type Probe } from "./probe.ts";

const token = new Uint8Array(16).fill(3);
const from = new Uint8Array(16).fill(4);

Deno.test("probe datagrams round-trip for every type", () => {
  const probes: Probe[] = [
    { type: "probe", token, from, nonce: 1 },
    { type: "ack", token, from, nonce: 0xffffffff },
    { type: "chosen", token, from, nonce: 7 },
    { type: "chosen-ack", token, from, nonce: 8, certificate: new Uint8Array(302).fill(5) },
  ];
  for (const probe of probes) assert.deepEqual(decodeProbe(encodeProbe(probe)), probe);
});

Deno.test("decodeProbe rejects oversized, truncated, unknown-version and unknown-type datagrams", () => {
  const valid = encodeProbe({ type: "probe", token, from, nonce: 1 });
  const cases: Array<[Uint8Array, RegExp]> = [
    [new Uint8Array(MAX_PROBE_BYTES + 1), /exceeds limit of 1200 bytes/],
    [valid.subarray(0, 41), /without a probe header/],
    [Uint8Array.from(valid, (byte, index) => index === 4 ? 9 : byte), /version 9/],
    [Uint8Array.from(valid, (byte, index) => index === 5 ? 77 : byte), /unknown type 77/],
  ];
  for (const [data, message] of cases) {
    assert.throws(() => decodeProbe(data), { name: "ProtocolError", message });
  }
  const ack = encodeProbe({
    type: "chosen-ack",
    token,
    from,
    nonce: 1,
    certificate: new Uint8Array(10),
  });
  assert.throws(() => decodeProbe(ack.subarray(0, ack.length - 1)), ProtocolError);
});

Deno.test("decodeProbe survives 100,000 random and mutated datagrams with only ProtocolError", () => {
  const seeds = [
    encodeProbe({ type: "probe", token, from, nonce: 1 }),
    encodeProbe({ type: "chosen-ack", token, from, nonce: 2, certificate: new Uint8Array(300) }),
  ];
  const random = new Uint8Array(4096);
  for (let round = 0; round < 100_000; round++) {
    let input: Uint8Array;
    if (round % 2 === 0) {
      crypto.getRandomValues(random.subarray(0, 1300));
      input = random.slice(0, (round * 7919) % 1300);
      if (round % 4 === 0 && input.length >= 4) input.set([0x50, 0x32, 0x50, 0x42]);
    } else {
      input = seeds[round % seeds.length].slice();
      const flips = 1 + (round % 5);
      for (let flip = 0; flip < flips; flip++) {
        input[(round * 31 + flip * 17) % input.length] ^= 1 << (flip % 8);
      }
      if (round % 3 === 0) input = input.subarray(0, (round * 13) % input.length);
    }
    try {
      decodeProbe(input);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
    }
  }
});
