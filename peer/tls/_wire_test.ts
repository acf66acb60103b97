import assert from "node:assert/strict";
import { ProtocolError } from "../../base/mod.ts";
import {
  CERTIFICATE_PREFACE_HEADER,
  decodeCertificatePrefaceHeader,
  decodeControl,
  decodeControlHeader,
  decodePreamble,
  encodeControl,
  encodePreamble,
  firstStreamsOf,
  MAX_CONTROL_PAYLOAD,
  NO_DELAY_ALPNS,
  noDelayAlpn,
  noDelayServerAlpns,
  PREAMBLE_LENGTH,
  TLS_LINK_VERSION,
} from "./_wire.ts";

const secret = new Uint8Array(32).fill(1);

Deno.test("decodeControlHeader rejects a frame longer than the limit before reading it", () => {
  assert.deepEqual(decodeControlHeader(new Uint8Array([3, 0, MAX_CONTROL_PAYLOAD])), {
    code: 3,
    length: MAX_CONTROL_PAYLOAD,
  });
  assert.throws(
    () => decodeControlHeader(new Uint8Array([3, 0xff, 0xff])),
    /length 65535 exceeds limit of 201 bytes/,
  );
});

Deno.test("decodeControl rejects unknown types, short OPENs and bad CLOSE flags", () => {
  assert.throws(() => decodeControl(9, new Uint8Array(0)), ProtocolError);
  assert.throws(() => decodeControl(2, new Uint8Array(3)), ProtocolError);
  assert.throws(() => decodeControl(2, new Uint8Array([0x80, 0, 0, 0])), ProtocolError);
  assert.throws(() => decodeControl(3, new Uint8Array([2])), ProtocolError);
  assert.throws(() => decodeControl(3, new Uint8Array(0)), ProtocolError);
});

Deno.test("decodeControl ignores bytes past the known fields of OPEN", () => {
  assert.deepEqual(decodeControl(2, new Uint8Array([0, 0, 0, 4, 99, 99])), {
    type: "open",
    streamId: 4,
  });
});

Deno.test("encodeControl cuts a CLOSE reason to 200 bytes on a character boundary", () => {
  const frame = encodeControl({ type: "close", failed: false, message: "é".repeat(150) });
  const decoded = decodeControl(frame[0], frame.subarray(3));
  assert.deepEqual(decoded, { type: "close", failed: false, message: "é".repeat(100) });
  assert.ok(frame.length - 3 <= MAX_CONTROL_PAYLOAD);
});

Deno.test("decodePreamble rejects wrong magic, version, kind, length and a control id", () => {
  const good = encodePreamble({ kind: "stream", secret, streamId: 3 });
  const broken = (index: number, value: number) => {
    const copy = good.slice();
    copy[index] = value;
    return copy;
  };
  assert.throws(() => decodePreamble(broken(0, 0x51)), /magic/);
  assert.throws(() => decodePreamble(broken(4, 9)), /version 9/);
  assert.throws(() => decodePreamble(broken(5, 7)), /unknown kind 7/);
  assert.throws(() => decodePreamble(good.subarray(1)), new RegExp(`expected ${PREAMBLE_LENGTH}`));
  assert.throws(() => decodePreamble(broken(5, 0)), /bad control stream id 3/);
  assert.throws(() => decodePreamble(broken(38, 0x80)), /bad stream stream id/);
});

Deno.test("encodePreamble refuses a secret of the wrong size and a negative stream id", () => {
  assert.throws(
    () => encodePreamble({ kind: "stream", secret: new Uint8Array(31), streamId: 1 }),
    RangeError,
  );
  assert.throws(() => encodePreamble({ kind: "stream", secret, streamId: -1 }), RangeError);
});

Deno.test("decodeCertificatePrefaceHeader rejects junk, other versions and oversized lengths", () => {
  const header = (bytes: number[]) => new Uint8Array(bytes);
  assert.throws(() => decodeCertificatePrefaceHeader(header([0, 0, 0, 0, 2, 0, 1])), /magic/);
  assert.throws(
    () => decodeCertificatePrefaceHeader(header([0x50, 0x32, 0x54, 0x43, 9, 0, 1])),
    /version 9/,
  );
  assert.throws(
    () =>
      decodeCertificatePrefaceHeader(
        header([0x50, 0x32, 0x54, 0x43, TLS_LINK_VERSION, 0xff, 0xff]),
      ),
    /length 65535 is outside 1\.\.2048/,
  );
  assert.throws(() => decodeCertificatePrefaceHeader(new Uint8Array(3)), ProtocolError);
  assert.equal(CERTIFICATE_PREFACE_HEADER, 7);
});

Deno.test("the no-delay ALPN protocols name the sender's first streams, 0 to 5, and nothing else", () => {
  assert.deepEqual(NO_DELAY_ALPNS, [0, 1, 2, 3, 4, 5].map((k) => `p2pft-tls-nodelay/${k}`));
  for (let k = 0; k <= 5; k++) assert.equal(firstStreamsOf(noDelayAlpn(k)), k);
  for (const other of [null, "", "h2", "p2pft-tls-nodelay/-1", "p2pft-tls-nodelay/6"]) {
    assert.equal(firstStreamsOf(other), undefined);
  }
  assert.throws(() => noDelayAlpn(-1), RangeError);
  assert.throws(() => noDelayAlpn(6), RangeError);
  // One first stream: the link's first one with a receiver that offers /0, else /1 (older ones).
  assert.deepEqual(noDelayServerAlpns(1), ["p2pft-tls-nodelay/0", "p2pft-tls-nodelay/1"]);
  assert.deepEqual(noDelayServerAlpns(3), ["p2pft-tls-nodelay/3"]);
});
