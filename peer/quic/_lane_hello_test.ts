import assert from "node:assert/strict";
import { ProtocolError } from "../../base/mod.ts";
import { golden } from "../../tests/golden.ts";
import {
  decodeLaneHello,
  encodeLaneHello,
  LANE_HELLO_BYTES,
  LANE_PROOF_BYTES,
  laneProof,
} from "./_lane_hello.ts";
import { ALPN } from "./quic.ts";

/** The link version the hello belongs to: the 2 of ALPN `p2pft/2`. */
const LINK_VERSION = Number(ALPN.split("/")[1]);

Deno.test("the lane hello matches its golden sample and decodes back", async () => {
  const hello = { index: 3, proof: laneProof(new Uint8Array(32).fill(0x42)) };
  const encoded = encodeLaneHello(hello);
  const fixture = await golden("lane_hello", encoded, LINK_VERSION);
  assert.deepEqual(encoded, fixture, "the lane hello changed on the wire");
  assert.deepEqual(decodeLaneHello(fixture), hello);
});

Deno.test("laneProof differs per session key and is not the key itself", () => {
  const a = laneProof(new Uint8Array(32).fill(1));
  const b = laneProof(new Uint8Array(32).fill(2));
  assert.equal(a.length, LANE_PROOF_BYTES);
  assert.notDeepEqual(a, b);
  assert.notDeepEqual(a, new Uint8Array(32).fill(1));
});

Deno.test("decodeLaneHello rejects a wrong length, magic, version, index 0 or reserved bits", () => {
  const good = encodeLaneHello({ index: 1, proof: new Uint8Array(LANE_PROOF_BYTES) });
  const changed = (at: number, value: number) => {
    const bytes = good.slice();
    bytes[at] = value;
    return bytes;
  };
  const bad = [
    good.subarray(0, LANE_HELLO_BYTES - 1),
    new Uint8Array(LANE_HELLO_BYTES + 1),
    changed(0, 0x51),
    changed(4, 2),
    changed(5, 0),
    changed(7, 1),
  ];
  for (const bytes of bad) assert.throws(() => decodeLaneHello(bytes), ProtocolError);
});

Deno.test("encodeLaneHello refuses an index outside 1..255 and a proof of the wrong size", () => {
  const proof = new Uint8Array(LANE_PROOF_BYTES);
  assert.throws(() => encodeLaneHello({ index: 0, proof }), RangeError);
  assert.throws(() => encodeLaneHello({ index: 256, proof }), RangeError);
  assert.throws(() => encodeLaneHello({ index: 1, proof: new Uint8Array(16) }), RangeError);
});
