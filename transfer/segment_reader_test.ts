import assert from "node:assert/strict";
import { ByteReader } from "../byte_reader.ts";
import { encodeFrame, FrameType } from "./_frame.ts";
import { SegmentReader } from "./_segment_reader.ts";

/** Readers over in-memory streams carrying `payload` cut into segments, k on stream k mod n. */
function striped(payload: Uint8Array, segmentSize: number, streams: number): ByteReader[] {
  const frames: Uint8Array[][] = Array.from({ length: streams }, () => []);
  for (let k = 0, at = 0; at < payload.length; k++, at += segmentSize) {
    frames[k % streams].push(
      encodeFrame(FrameType.DATA, payload.subarray(at, Math.min(at + segmentSize, payload.length))),
    );
  }
  return frames.map((chunks, index) =>
    new ByteReader(ReadableStream.from(chunks), { what: `data stream ${index}` })
  );
}

function patterned(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, index) => (index * 31 + (index >> 8)) & 0xff);
}

async function readAll(segments: SegmentReader, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  for (let filled = 0; filled < length;) {
    const chunk = await segments.next(length - filled);
    out.set(chunk, filled);
    filled += chunk.length;
  }
  return out;
}

Deno.test("SegmentReader puts striped segments back in order, reading every stream ahead", async () => {
  const segmentSize = 16 * 1024;
  const payload = patterned(5 * segmentSize + 123);
  const segments = new SegmentReader(striped(payload, segmentSize, 4), segmentSize);
  assert.deepEqual(await readAll(segments, payload.length), payload);
  await segments.finish();
});

Deno.test("SegmentReader reads on demand when the streams' segments exceed its read-ahead budget", async () => {
  // 16 streams of 16 MiB segments would hold 256 MiB ahead; the bytes still arrive in order.
  const segmentSize = 16 * 1024 * 1024;
  const payload = patterned(64 * 1024);
  const segments = new SegmentReader(striped(payload, segmentSize, 16), segmentSize);
  assert.deepEqual(await readAll(segments, payload.length), payload);
  await segments.finish();
});

Deno.test("SegmentReader reports extra bytes after the last segment", async () => {
  const segmentSize = 16 * 1024;
  const payload = patterned(segmentSize + 10);
  const frame = (from: number, to: number) =>
    encodeFrame(FrameType.DATA, payload.subarray(from, to));
  const junk = encodeFrame(FrameType.DATA, new Uint8Array(3));
  const readers = [
    [frame(0, segmentSize), junk],
    [frame(segmentSize, payload.length)],
  ].map((chunks, index) =>
    new ByteReader(ReadableStream.from(chunks), { what: `data stream ${index}` })
  );
  const segments = new SegmentReader(readers, segmentSize);
  assert.deepEqual(await readAll(segments, payload.length), payload);
  await assert.rejects(segments.finish(), /extra bytes on data stream 0/);
});
