import assert from "node:assert/strict";
import { ProtocolError } from "../../base/mod.ts";
import { golden } from "../../tests/golden.ts";
import { decodeLinkEnd, encodeLinkEnd, MAX_END_MESSAGE_BYTES } from "./_link_end.ts";
import { PROBE_VERSION } from "../punch/mod.ts";

Deno.test("end messages match their golden samples and decode back", async () => {
  const samples = [
    { name: "done", end: { failed: false, message: "done" } },
    { name: "failed", end: { failed: true, message: "Interrupted" } },
  ];
  for (const { name, end } of samples) {
    const encoded = encodeLinkEnd(end);
    const fixture = await golden(`link_end_${name}`, encoded, PROBE_VERSION);
    assert.deepEqual(encoded, fixture, `${name} changed on the wire`);
    assert.deepEqual(decodeLinkEnd(fixture), end);
  }
});

Deno.test("encodeLinkEnd cuts a long reason to 200 bytes without splitting a character", () => {
  const encoded = encodeLinkEnd({ failed: true, message: "é".repeat(150) });
  assert.ok(encoded.length <= MAX_END_MESSAGE_BYTES, `${encoded.length} bytes`);
  const { message } = decodeLinkEnd(encoded);
  assert.match(message, /^é+\.\.\.$/);
});

Deno.test("decodeLinkEnd rejects an empty, oversized, unknown-code or non-UTF-8 message", () => {
  const bad = [
    new Uint8Array(0),
    new Uint8Array(MAX_END_MESSAGE_BYTES + 1),
    Uint8Array.of(7, 0x61),
    Uint8Array.of(1, 0xff, 0xfe),
  ];
  for (const bytes of bad) assert.throws(() => decodeLinkEnd(bytes), ProtocolError);
});
