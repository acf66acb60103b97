import assert from "node:assert/strict";
import { golden } from "../tests/golden.ts";
import { decodeFrame, encodeFrame, FrameType, PAKE_VERSION } from "./_frame.ts";
import { Spake2 } from "./spake2.ts";

Deno.test("PAKE frames match the golden samples of PAKE version 1", async () => {
  const identities = {
    identityA: new TextEncoder().encode("p2pft receiver 7"),
    identityB: new TextEncoder().encode("p2pft sender 7"),
  };
  const scalar = new Uint8Array(32).fill(3);
  const share =
    (await Spake2.start("A", new TextEncoder().encode("lantern-crossword"), identities, scalar))
      .message;
  const samples = [
    { name: "pake_share", type: FrameType.Share, payload: share },
    { name: "pake_confirm", type: FrameType.Confirm, payload: new Uint8Array(32).fill(0xc0) },
  ];
  for (const sample of samples) {
    const encoded = encodeFrame(sample.type, sample.payload);
    const fixture = await golden(sample.name, encoded, PAKE_VERSION);
    assert.deepEqual(encoded, fixture, `${sample.name} changed on the wire`);
    const decoded = decodeFrame(fixture, sample.type);
    assert.deepEqual(decoded.payload, sample.payload);
  }
});
