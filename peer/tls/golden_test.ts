import assert from "node:assert/strict";
import { golden } from "../../tests/golden.ts";
import {
  CERTIFICATE_PREFACE_HEADER,
  CONTROL_HEADER_LENGTH,
  type ControlMessage,
  decodeCertificatePrefaceHeader,
  decodeControl,
  decodeControlHeader,
  decodePreamble,
  encodeCertificatePreface,
  encodeControl,
  encodePreamble,
  type Preamble,
  TLS_LINK_VERSION,
} from "./_wire.ts";

Deno.test("TLS link preambles and control frames match the golden samples of TLS link version 3", async () => {
  const secret = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 + i);
  const preambles: [string, Preamble][] = [
    ["tls_preamble_control", { kind: "control", secret, streamId: 0 }],
    ["tls_preamble_stream", { kind: "stream", secret, streamId: 5 }],
  ];
  for (const [name, sample] of preambles) {
    const encoded = encodePreamble(sample);
    const fixture = await golden(name, encoded, TLS_LINK_VERSION);
    assert.deepEqual(encoded, fixture, `${name} changed on the wire`);
    assert.deepEqual(decodePreamble(fixture), sample);
  }
  const messages: ControlMessage[] = [
    { type: "ready" },
    { type: "open", streamId: 6 },
    { type: "close", failed: true, message: "Interrupted" },
    { type: "ping" },
  ];
  for (const sample of messages) {
    const encoded = encodeControl(sample);
    const fixture = await golden(`tls_${sample.type}`, encoded, TLS_LINK_VERSION);
    assert.deepEqual(encoded, fixture, `TLS ${sample.type} changed on the wire`);
    const { code, length } = decodeControlHeader(fixture.subarray(0, CONTROL_HEADER_LENGTH));
    assert.equal(length, fixture.length - CONTROL_HEADER_LENGTH);
    assert.deepEqual(decodeControl(code, fixture.subarray(CONTROL_HEADER_LENGTH)), sample);
  }
});

Deno.test("the TLS link's certificate preface matches its golden sample", async () => {
  const der = Uint8Array.from({ length: 40 }, (_, i) => i);
  const encoded = encodeCertificatePreface(der);
  const fixture = await golden("tls_certificate_preface", encoded, TLS_LINK_VERSION);
  assert.deepEqual(encoded, fixture, "the certificate preface changed on the wire");
  assert.equal(
    decodeCertificatePrefaceHeader(fixture.subarray(0, CERTIFICATE_PREFACE_HEADER)),
    der.length,
  );
  assert.deepEqual(fixture.subarray(CERTIFICATE_PREFACE_HEADER), der);
});
