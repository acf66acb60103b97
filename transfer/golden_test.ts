import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { golden } from "../tests/golden.ts";
import { concatBytes } from "../base/mod.ts";
import {
  batchNotSent,
  decodeEntries,
  decodeHello,
  decodeNotSent,
  decodeStart,
  encodeEntry,
  encodeFileTrailer,
  encodeFrame,
  encodeHello,
  encodeManifestEnd,
  encodeMore,
  encodePlanEnd,
  encodeResent,
  encodeStart,
  FileStatus,
  FrameType,
  PROTOCOL_VERSION,
  SPOKEN_VERSION,
} from "./wire/mod.ts";
import { encodeText } from "./_text_messages.ts";

const text = new TextEncoder();
const sha256 = (value: string) => new Uint8Array(createHash("sha256").update(value).digest());

Deno.test("transfer frames match the golden samples of the transfer version", async () => {
  // Samples of what a peer of the newest version sends (HELLO still starts with version 4).
  const version = SPOKEN_VERSION;
  const hello = {
    streams: 4,
    segmentSize: 1_048_576,
    entries: 2,
    files: 1,
    directories: 1,
    totalBytes: 5,
  };
  const entries = [
    {
      kind: "directory" as const,
      mode: 0o755,
      size: 0,
      mtimeMs: 1_700_000_000_000,
      path: "photos",
    },
    {
      kind: "file" as const,
      mode: 0o644,
      size: 5,
      mtimeMs: 1_700_000_000_500,
      path: "photos/été.txt",
    },
  ];
  const start = { streams: 1, decisions: 1, dataBytes: 38 };
  const samples = [
    { name: "transfer_hello", frame: encodeFrame(FrameType.HELLO, encodeHello(hello)) },
    {
      name: "transfer_entries",
      frame: encodeFrame(
        FrameType.ENTRIES,
        new Uint8Array(entries.flatMap((e) => [...encodeEntry(e)])),
      ),
    },
    { name: "transfer_start", frame: encodeFrame(FrameType.START, encodeStart(start)) },
    {
      // The logical data stream of one 5-byte file that changed while read and came again, as 5.
      name: "transfer_data_resent",
      frame: encodeFrame(
        FrameType.DATA,
        new Uint8Array([
          ...text.encode("hello"),
          ...encodeResent(),
          ...text.encode("jello"),
          ...encodeFileTrailer(FileStatus.AS_SCANNED, sha256("jello")),
        ]),
      ),
    },
    {
      // A text offer: HELLO with the text flag, then the TEXT frame.
      name: "transfer_text",
      frame: new Uint8Array([
        ...encodeFrame(
          FrameType.HELLO,
          encodeHello({
            ...hello,
            text: true,
            entries: 0,
            files: 0,
            directories: 0,
            totalBytes: 6,
          }),
        ),
        ...encodeFrame(FrameType.TEXT, encodeText("héllo")),
      ]),
    },
    {
      // A stream of unknown size ("hello" piped in two chunks): its entry, then its data.
      name: "transfer_stream",
      frame: new Uint8Array([
        ...encodeFrame(
          FrameType.ENTRIES,
          encodeEntry({
            kind: "file",
            mode: 0o644,
            size: 0,
            mtimeMs: null,
            path: "stdin",
            unknownSize: true,
          }),
        ),
        ...encodeFrame(
          FrameType.DATA,
          new Uint8Array([
            ...encodeMore(2),
            ...text.encode("he"),
            ...encodeMore(3),
            ...text.encode("llo"),
            ...encodeFileTrailer(FileStatus.AS_SCANNED, sha256("hello")),
          ]),
        ),
      ]),
    },
    {
      // The end of an offer: a FIFO and an unreadable file it does not send, then MANIFEST_END.
      name: "transfer_skipped",
      frame: new Uint8Array([
        ...encodeFrame(
          FrameType.SKIPPED,
          concatBytes([
            ...batchNotSent([{ path: "d/pipe", kind: "fifo" }, {
              path: "d/secret",
              kind: "unreadable",
            }]),
          ]),
        ),
        ...encodeFrame(FrameType.MANIFEST_END, encodeManifestEnd({ entries: 2, skipped: 2 })),
      ]),
    },
    {
      // A symlink kept inside the tree: its target follows its path.
      name: "transfer_symlink",
      frame: encodeFrame(
        FrameType.ENTRIES,
        encodeEntry({
          kind: "symlink",
          mode: 0o777,
          size: 6,
          mtimeMs: null,
          path: "photos/latest",
          target: "été",
        }),
      ),
    },
    {
      // A receiver of version 5 asks its user (ASKING), then takes a small transfer inline
      // (PLAN_END's inline flag).
      name: "transfer_asking_plan_end",
      frame: new Uint8Array([
        ...encodeFrame(FrameType.ASKING, new Uint8Array(0)),
        ...encodeFrame(
          FrameType.PLAN_END,
          encodePlanEnd({ items: 0, keepExisting: false, inline: true }),
        ),
      ]),
    },
    {
      // Version 5, inline: START (no data stream), the data on the control stream, an empty DATA.
      name: "transfer_inline",
      frame: new Uint8Array([
        ...encodeFrame(
          FrameType.START,
          encodeStart({ inline: true, streams: 0, decisions: 1, dataBytes: 38 }),
        ),
        ...encodeFrame(
          FrameType.DATA,
          new Uint8Array([
            ...text.encode("hello"),
            ...encodeFileTrailer(FileStatus.AS_SCANNED, sha256("hello")),
          ]),
        ),
        ...encodeFrame(FrameType.DATA, new Uint8Array(0)),
      ]),
    },
  ];
  for (const sample of samples) {
    const fixture = await golden(sample.name, sample.frame, version);
    assert.deepEqual(sample.frame, fixture, `${sample.name} changed on the wire`);
  }
  const payload = (frame: Uint8Array) => frame.subarray(5);
  assert.deepEqual(
    decodeHello(payload(await golden("transfer_hello", samples[0].frame, version))),
    {
      version: PROTOCOL_VERSION,
      speaks: SPOKEN_VERSION,
      text: false,
      allowChanging: false,
      links: 0,
      ...hello,
    },
  );
  assert.deepEqual(
    decodeEntries(payload(await golden("transfer_entries", samples[1].frame, version)))
      .map((e) => e.path),
    ["photos", "photos/été.txt"],
  );
  const stream = await golden("transfer_stream", samples[5].frame, version);
  assert.equal(decodeEntries(stream.subarray(5, stream.length - 5 - 48))[0].unknownSize, true);
  assert.deepEqual(
    decodeStart(payload(await golden("transfer_start", samples[2].frame, version))),
    { ...start, inline: false },
  );
  const inline = await golden("transfer_inline", samples[9].frame, version);
  assert.deepEqual(decodeStart(inline.subarray(5, 21)), {
    inline: true,
    streams: 0,
    decisions: 1,
    dataBytes: 38,
  });
  const skipped = await golden("transfer_skipped", samples[6].frame, version);
  assert.deepEqual(decodeNotSent(skipped.subarray(5, skipped.length - 13)), [
    { path: "d/pipe", kind: "fifo" },
    { path: "d/secret", kind: "unreadable" },
  ]);
  const symlink = await golden("transfer_symlink", samples[7].frame, version);
  assert.deepEqual(decodeEntries(symlink.subarray(5))[0].target, "été");
});
