import assert from "node:assert/strict";
import { golden } from "../../tests/golden.ts";
import { decodeMessage, encodeMessage, MAX_REPLY_SIZE } from "./protocol.ts";
import { PROTOCOL_VERSION } from "./_wire.ts";
import { SAMPLES } from "../testing/mod.ts";

Deno.test(`rendezvous datagrams match the golden samples of protocol version ${PROTOCOL_VERSION}`, async () => {
  for (const [index, sample] of SAMPLES.entries()) {
    const isRequest = sample.type === "register" || sample.type === "leave" ||
      sample.type === "observe" || sample.type === "relay-hello";
    const encoded = encodeMessage(sample, isRequest ? { padTo: MAX_REPLY_SIZE } : undefined);
    const fixture = await golden(`rendezvous_${index}_${sample.type}`, encoded, PROTOCOL_VERSION);
    assert.deepEqual(encoded, fixture, `sample ${index} (${sample.type}) changed on the wire`);
    assert.deepEqual(decodeMessage(fixture), decodeMessage(encoded));
  }
});
