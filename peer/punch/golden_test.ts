import assert from "node:assert/strict";
import { golden } from "../../tests/golden.ts";
import { decodeProbe, encodeProbe, type Probe, PROBE_VERSION } from "./probe.ts";

Deno.test("punch probes match the golden samples of probe version 1", async () => {
  const token = Uint8Array.from({ length: 16 }, (_, i) => i);
  const from = Uint8Array.from({ length: 16 }, (_, i) => 0xf0 + i);
  const samples: Probe[] = [
    { type: "probe", token, from, nonce: 1 },
    { type: "ack", token, from, nonce: 0xdeadbeef },
    { type: "chosen", token, from, nonce: 7 },
    {
      type: "chosen-ack",
      token,
      from,
      nonce: 7,
      certificate: new Uint8Array([0x30, 0x82, 0x01, 0x2a]),
    },
  ];
  for (const sample of samples) {
    const encoded = encodeProbe(sample);
    const fixture = await golden(`probe_${sample.type}`, encoded, PROBE_VERSION);
    assert.deepEqual(encoded, fixture, `${sample.type} changed on the wire`);
    assert.deepEqual(decodeProbe(fixture), sample);
  }
});
