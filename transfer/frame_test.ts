import assert from "node:assert/strict";
import { ByteReader, ProtocolError } from "../base/mod.ts";
import {
  decodeHello,
  encodeEntry,
  encodeFrame,
  encodeHello,
  encodeManifestEnd,
  FrameType,
  LIMITS,
  parseFrameHeader,
  readFrame,
} from "./wire/mod.ts";
import { readManifest } from "./_receive_manifest.ts";
import { withTimeout } from "./_test_util.ts";

function header(type: number, length: number): Uint8Array {
  const out = new Uint8Array(5);
  out[0] = type;
  new DataView(out.buffer).setUint32(1, length);
  return out;
}

/** A stream that counts how many bytes were pulled from it. */
function countingStream(
  chunks: Uint8Array[],
): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  let index = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (index >= chunks.length) return controller.close();
      pulled += chunks[index].length;
      controller.enqueue(chunks[index++]);
    },
  }, { highWaterMark: 0 });
  return { stream, pulled: () => pulled };
}

Deno.test("readFrame rejects a frame longer than its type's limit before reading the payload", async () => {
  await withTimeout(5_000, async () => {
    const { stream, pulled } = countingStream([
      header(FrameType.ENTRIES, LIMITS.maxBatchFrameBytes + 1),
      new Uint8Array(1 << 20),
    ]);
    const reader = new ByteReader(stream, { what: "test" });
    await assert.rejects(
      readFrame(reader, { expect: [FrameType.ENTRIES], what: "manifest" }),
      (e) =>
        e instanceof ProtocolError &&
        /length 1048577 exceeds limit of 1048576 bytes/.test(e.message),
    );
    assert.equal(pulled(), 5);
    await reader.cancel();
  });
});

Deno.test("parseFrameHeader rejects unknown and unexpected frame types", () => {
  assert.throws(
    () => parseFrameHeader(header(0x55, 0), { expect: [FrameType.HELLO], what: "offer" }),
    /unknown frame type 0x55/,
  );
  assert.throws(
    () => parseFrameHeader(header(FrameType.DONE, 0), { expect: [FrameType.HELLO], what: "offer" }),
    /unexpected DONE frame, expected HELLO/,
  );
  assert.throws(
    () =>
      parseFrameHeader(header(FrameType.DATA, 70_000), {
        expect: [FrameType.DATA],
        what: "data",
        maxPayload: 65_536,
      }),
    ProtocolError,
  );
});

Deno.test("decodeHello rejects another version and out-of-range limits", () => {
  const hello = encodeHello({
    streams: 4,
    segmentSize: 1 << 20,
    entries: 1,
    files: 1,
    directories: 0,
    totalBytes: 5,
  });
  assert.equal(decodeHello(hello).version, 4);
  assert.equal(decodeHello(hello).text, false);
  const v3 = hello.slice();
  v3[0] = 3;
  assert.throws(() => decodeHello(v3), /unsupported version 3, this peer speaks 4/);
  const allowChanging = hello.slice();
  allowChanging[2] = 2;
  assert.equal(decodeHello(allowChanging).allowChanging, true);
  const unknownFlag = hello.slice();
  unknownFlag[2] = 4;
  assert.throws(() => decodeHello(unknownFlag), /unknown flags 0x4/);
  const textWithEntries = hello.slice();
  textWithEntries[2] = 1;
  assert.throws(() => decodeHello(textWithEntries), /a text offer with 1 entries/);
  const tooMany = encodeHello({
    streams: 1,
    segmentSize: 1 << 20,
    entries: LIMITS.maxEntries + 1,
    files: LIMITS.maxEntries + 1,
    directories: 0,
    totalBytes: 0,
  });
  assert.throws(() => decodeHello(tooMany), ProtocolError);
  assert.throws(
    () =>
      decodeHello(
        encodeHello({
          streams: 17,
          segmentSize: 1 << 20,
          entries: 0,
          files: 0,
          directories: 0,
          totalBytes: 0,
        }),
      ),
    ProtocolError,
  );
  assert.throws(
    () =>
      decodeHello(
        encodeHello({
          streams: 1,
          segmentSize: 100,
          entries: 0,
          files: 0,
          directories: 0,
          totalBytes: 0,
        }),
      ),
    ProtocolError,
  );
});

Deno.test("readManifest stops a manifest larger than 64 MiB", async () => {
  await withTimeout(30_000, async () => {
    // One directory and many files with 240-byte names: ~64 MiB of entries in 1 MiB frames.
    const perEntry = encodeEntry({
      kind: "file",
      path: `d/${"x".repeat(240)}`,
      size: 0,
      mode: 0o644,
      mtimeMs: null,
    }).length;
    const perFrame = Math.floor(LIMITS.maxBatchFrameBytes / perEntry);
    const frames = Math.ceil(LIMITS.maxManifestBytes / (perFrame * perEntry)) + 1;
    const entries = frames * perFrame + 1;
    let made = 0;
    const chunks = function* () {
      yield encodeFrame(
        FrameType.HELLO,
        encodeHello({
          streams: 1,
          segmentSize: 1 << 20,
          entries,
          files: entries - 1,
          directories: 1,
          totalBytes: 0,
        }),
      );
      yield encodeFrame(
        FrameType.ENTRIES,
        encodeEntry({ kind: "directory", path: "d", size: 0, mode: 0o755, mtimeMs: null }),
      );
      for (let f = 0; f < frames; f++) {
        const payload = new Uint8Array(perFrame * perEntry);
        for (let i = 0; i < perFrame; i++) {
          const name = `d/${String(made++).padStart(240, "0")}`;
          payload.set(
            encodeEntry({ kind: "file", path: name, size: 0, mode: 0o644, mtimeMs: null }),
            i * perEntry,
          );
        }
        yield encodeFrame(FrameType.ENTRIES, payload);
      }
      yield encodeFrame(
        FrameType.MANIFEST_END,
        encodeManifestEnd({ entries: entries, skipped: 0 }),
      );
    };
    const source = chunks();
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = source.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
    }, { highWaterMark: 0 });
    const reader = new ByteReader(stream, { what: "test" });
    await assert.rejects(
      readManifest(reader),
      (e) => e instanceof ProtocolError && /more than 67108864 bytes/.test(e.message),
    );
    assert.ok(made < frames * perFrame, "the reader stopped before the end of the stream");
    await reader.cancel();
  });
});
