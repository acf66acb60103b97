import assert from "node:assert/strict";
import { dataStreamsFor, lanesFor } from "./data_streams.ts";
import { MAX_STREAMS } from "../../transfer/mod.ts";

Deno.test("dataStreamsFor covers a 1 Gbit/s bandwidth-delay product with QUIC stream windows", () => {
  const quic = (rttMs: number) => dataStreamsFor({ transport: "quic", rttMs });
  assert.equal(quic(0.2), 4);
  assert.equal(quic(40), 4);
  assert.equal(quic(50), 5);
  assert.equal(quic(100), 10);
  assert.equal(quic(160), 16);
  assert.equal(quic(300), 16);
});

Deno.test("dataStreamsFor takes 4 streams over TCP and for an unknown RTT", () => {
  assert.equal(dataStreamsFor({ transport: "tcp", rttMs: 300 }), 4);
  assert.equal(dataStreamsFor({ transport: "quic", rttMs: NaN }), 4);
  assert.equal(dataStreamsFor({ transport: "quic", rttMs: -1 }), 4);
});

Deno.test("dataStreamsFor never asks for more streams than the transfer protocol allows", () => {
  assert.equal(dataStreamsFor({ transport: "quic", rttMs: 10_000 }), MAX_STREAMS);
});

Deno.test("lanesFor opens one QUIC connection per 40 ms of round trip from 150 ms on a direct path, at most 8", () => {
  const direct = (rttMs: number) => lanesFor({ path: "direct", rttMs });
  assert.equal(direct(1), 1);
  assert.equal(direct(100), 1);
  assert.equal(direct(149), 1);
  assert.equal(direct(150), 4);
  assert.equal(direct(200), 5);
  assert.equal(direct(300), 8);
  assert.equal(direct(10_000), 8);
  assert.equal(direct(NaN), 1);
});

Deno.test("lanesFor keeps one connection on the LAN and through the relay", () => {
  assert.equal(lanesFor({ path: "lan", rttMs: 300 }), 1);
  assert.equal(lanesFor({ path: "relay", rttMs: 300 }), 1);
});
