import assert from "node:assert/strict";
import { ByteReader, ConnectionLostError } from "../base/mod.ts";
import { encodeFrame, FrameType } from "./wire/mod.ts";
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

/**
 * Byte streams (as Deno's TLS and QUIC streams are) carrying `payload` cut into
 * segments, k on stream k mod n, each pull serving at most `piece` bytes; `views`
 * records where every view a pull was handed to fill lies in its buffer.
 */
function stripedBytes(
  payload: Uint8Array,
  { segmentSize, streams, piece }: { segmentSize: number; streams: number; piece: number },
  views: { offset: number; buffer: number }[],
): ByteReader[] {
  const frames: Uint8Array[][] = Array.from({ length: streams }, () => []);
  for (let k = 0, at = 0; at < payload.length; k++, at += segmentSize) {
    frames[k % streams].push(
      encodeFrame(FrameType.DATA, payload.subarray(at, Math.min(at + segmentSize, payload.length))),
    );
  }
  return frames.map((chunks, index) => {
    const bytes = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
    chunks.reduce((at, chunk) => (bytes.set(chunk, at), at + chunk.length), 0);
    let at = 0;
    const readable = new ReadableStream({
      type: "bytes",
      pull(controller) {
        const request = controller.byobRequest!;
        const view = new Uint8Array(
          request.view!.buffer,
          request.view!.byteOffset,
          request.view!.byteLength,
        );
        views.push({ offset: view.byteOffset, buffer: view.buffer.byteLength });
        if (at === bytes.length) {
          controller.close();
          request.respond(0);
          return;
        }
        const take = Math.min(piece, view.length, bytes.length - at);
        view.set(bytes.subarray(at, at + take));
        at += take;
        request.respond(take);
      },
    });
    return new ByteReader(readable, { what: `data stream ${index}`, exact: true });
  });
}

for (const streams of [1, 3]) {
  Deno.test(`SegmentReader keeps each chunk until the call after the next one (${streams} streams)`, async () => {
    const segmentSize = 16 * 1024;
    const payload = patterned(7 * segmentSize + 5);
    const segments = new SegmentReader(
      stripedBytes(payload, { segmentSize, streams, piece: 5000 }, []),
      segmentSize,
    );
    let previous: { chunk: Uint8Array; at: number } | undefined;
    for (let at = 0; at < payload.length;) {
      // Whole segments, as the receiver takes them, so every call moves to the next segment.
      const chunk = await segments.next(segmentSize);
      if (previous) {
        assert.deepEqual(
          previous.chunk,
          payload.subarray(previous.at, previous.at + previous.chunk.length),
          `chunk at ${previous.at} changed before the call after the next one`,
        );
      }
      assert.deepEqual(chunk, payload.subarray(at, at + chunk.length));
      previous = { chunk, at };
      at += chunk.length;
    }
    await segments.finish();
  });
}

Deno.test("SegmentReader reads a byte stream's segments straight into its own buffers", async () => {
  const segmentSize = 16 * 1024;
  const payload = patterned(6 * segmentSize);
  const views: { offset: number; buffer: number }[] = [];
  const segments = new SegmentReader(
    stripedBytes(payload, { segmentSize, streams: 2, piece: 1000 }, views),
    segmentSize,
  );
  assert.deepEqual(await readAll(segments, payload.length), payload);
  await segments.finish();
  // After a first piece of 1000 bytes, the next read fills the rest of the same segment buffer.
  assert.ok(
    views.some((view) => view.offset === 1000 && view.buffer === segmentSize),
    `no read into a segment buffer past its first piece among ${views.length} reads`,
  );
});

/** A source read in place (as a TLS connection is) that serves `bytes` in pieces, then fails. */
function cutSource(bytes: Uint8Array, piece: number) {
  let at = 0;
  return new ByteReader({
    read: (view) => {
      if (at === bytes.length) return Promise.reject(new Error("connection reset"));
      const n = Math.min(piece, view.length, bytes.length - at);
      view.set(bytes.subarray(at, at + n));
      at += n;
      return Promise.resolve(n);
    },
    cancel: () => Promise.resolve(),
  }, { what: "data stream", failure: ConnectionLostError });
}

Deno.test("SegmentReader yields the part of a segment that arrived before its stream broke, then fails", async () => {
  const segmentSize = 16 * 1024;
  const payload = patterned(4 * segmentSize);
  const frame = (k: number) =>
    encodeFrame(FrameType.DATA, payload.subarray(k * segmentSize, (k + 1) * segmentSize));
  // Segment 0 arrives whole; segment 1 breaks after 1000 bytes; segment 2 whole but after the cut.
  const readers = [
    cutSource(frame(0), 4096),
    cutSource(frame(1).subarray(0, 5 + 1000), 512),
    cutSource(frame(2), 4096),
  ];
  const segments = new SegmentReader(readers, segmentSize);
  assert.deepEqual(
    await readAll(segments, segmentSize + 1000),
    payload.subarray(0, segmentSize + 1000),
  );
  await assert.rejects(segments.next(1), (error) => {
    assert.ok(error instanceof ConnectionLostError);
    assert.match(error.message, /failed after 1000 of 16384 bytes \(connection reset\)/);
    return true;
  });
});

Deno.test("SegmentReader keeps the segments of `holds` writes in flight unchanged while it reads on", async () => {
  const segmentSize = 16 * 1024;
  const payload = patterned(12 * segmentSize);
  // Two streams: each one's buffers come back to it after two segments, so an early reuse shows.
  const segments = new SegmentReader(striped(payload, segmentSize, 2), segmentSize, 3);
  const taken: Uint8Array[] = [];
  for (let at = 0; at < payload.length; at += segmentSize) {
    taken.push(await segments.next(segmentSize));
    // The current chunk and the three before it are still what arrived.
    for (let k = Math.max(0, taken.length - 4); k < taken.length; k++) {
      assert.deepEqual(taken[k], payload.subarray(k * segmentSize, (k + 1) * segmentSize));
    }
  }
  await segments.finish();
});
