import assert from "node:assert/strict";
import { ByteReader, concatBytes, ProtocolError, UnsafePathError } from "../base/mod.ts";
import {
  batchDecisions,
  batchEntries,
  batchPlan,
  decodeCount,
  decodeDataHello,
  decodeDecisions,
  decodeDone,
  decodeEntries,
  decodeError,
  decodeHello,
  decodePlan,
  decodeStart,
  encodeCount,
  encodeDataHello,
  encodeDone,
  encodeError,
  encodeFrame,
  encodeHello,
  encodeManifestEnd,
  encodeStart,
  FRAME_HEADER_BYTES,
  FrameType,
  type ManifestEntry,
  parseFrameHeader,
  readFrame,
} from "./wire/mod.ts";
import { readManifest } from "./_receive_manifest.ts";
import { decodeText, encodeText } from "./_text_messages.ts";
import { withTimeout } from "./_test_util.ts";

/** xorshift32: reproducible inputs; the seed is in every failure message. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  return { int: (n: number) => next() % n, next };
}

type Rng = ReturnType<typeof rng>;

function randomInput(r: Rng, max: number): Uint8Array {
  const out = new Uint8Array(r.int(max + 1));
  for (let i = 0; i < out.length; i++) out[i] = r.next() & 0xff;
  return out;
}

/** Flip, overwrite with boundary values, truncate, extend or splice. */
function mutate(r: Rng, input: Uint8Array): Uint8Array {
  let out = input.slice();
  const edits = 1 + r.int(4);
  for (let e = 0; e < edits; e++) {
    const kind = r.int(5);
    if (kind === 0 && out.length > 0) out[r.int(out.length)] ^= 1 << r.int(8);
    else if (kind === 1 && out.length > 0) {
      out[r.int(out.length)] = [0, 0xff, 0x7f, 0x80, 1][r.int(5)];
    } else if (kind === 2) out = out.slice(0, r.int(out.length + 1));
    else if (kind === 3) {
      const extra = randomInput(r, 16);
      const grown = new Uint8Array(out.length + extra.length);
      grown.set(out);
      grown.set(extra, out.length);
      out = grown;
    } else if (out.length > 4) {
      const at = r.int(out.length - 4);
      new DataView(out.buffer).setUint32(
        at,
        [0, 0xffffffff, 0x7fffffff, out.length, 1 << 20][r.int(5)],
      );
    }
  }
  return out;
}

const entries: ManifestEntry[] = [
  { kind: "directory", path: "dir", size: 0, mode: 0o755, mtimeMs: 1_700_000_000_000 },
  { kind: "file", path: "dir/a.txt", size: 12_345, mode: 0o644, mtimeMs: null },
  { kind: "file", path: "dir/ünï.bin", size: 2 ** 40, mode: 0o755, mtimeMs: 0 },
];
const digest = new Uint8Array(32).fill(7);

const DECODERS: Array<[string, (payload: Uint8Array) => unknown, Uint8Array]> = [
  [
    "HELLO",
    decodeHello,
    encodeHello({
      streams: 4,
      segmentSize: 1 << 20,
      entries: 3,
      files: 2,
      directories: 1,
      totalBytes: 99,
    }),
  ],
  ["ENTRIES", decodeEntries, [...batchEntries(entries)][0]],
  ["count", (p) => decodeCount(p, "count"), encodeCount(3)],
  [
    "PLAN",
    decodePlan,
    [...batchPlan([{ index: 1, kind: "partial", length: 100, sha256: digest }, {
      index: 2,
      kind: "exists",
      length: 5,
      sha256: digest,
    }])][0],
  ],
  [
    "DECISIONS",
    decodeDecisions,
    [...batchDecisions([{ index: 1, action: "resume" }, { index: 2, action: "skip" }])][0],
  ],
  ["START", decodeStart, encodeStart({ streams: 4, decisions: 2, dataBytes: 1000 })],
  ["DATA_HELLO", decodeDataHello, encodeDataHello(1, 4)],
  ["DONE", decodeDone, encodeDone({ files: 2, digest })],
  ["ERROR", decodeError, encodeError({ code: 3, message: "no thanks" })],
  ["TEXT", decodeText, encodeText("héllo ✓")],
  [
    "frame header",
    (p) =>
      parseFrameHeader(p, {
        expect: [FrameType.ENTRIES, FrameType.DATA],
        what: "fuzz",
        maxPayload: 1 << 20,
      }),
    encodeFrame(FrameType.ENTRIES, new Uint8Array(3)).subarray(0, FRAME_HEADER_BYTES),
  ],
];

function expectOnlyProtocolError(name: string, seed: number, run: () => unknown) {
  try {
    run();
  } catch (error) {
    if (!(error instanceof ProtocolError)) {
      assert.fail(`${name} decoder threw ${error} (seed ${seed}), expected only ProtocolError`);
    }
  }
}

Deno.test("every decoder answers 120,000 random and mutated inputs with a value or a ProtocolError", () => {
  const seed = 0x5eed_1234;
  const r = rng(seed);
  let count = 0;
  for (const [name, decode, valid] of DECODERS) {
    decode(valid); // the sample itself decodes
    for (let i = 0; i < 6_000; i++, count++) {
      expectOnlyProtocolError(name, seed, () => decode(randomInput(r, 300)));
    }
    for (let i = 0; i < 6_000; i++, count++) {
      expectOnlyProtocolError(name, seed, () => decode(mutate(r, valid)));
    }
  }
  assert.ok(count >= 120_000);
});

function streamOf(bytes: Uint8Array, r: Rng): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      let offset = 0;
      while (offset < bytes.length) {
        const size = 1 + r.int(64);
        controller.enqueue(bytes.slice(offset, offset + size));
        offset += size;
      }
      controller.close();
    },
  });
}

Deno.test("readManifest and readFrame end every mutated stream with a manifest or a ProtocolError, never a hang", async () => {
  await withTimeout(20_000, async (signal) => {
    const seed = 0xabcd_ef01;
    const r = rng(seed);
    const files = entries.filter((e) => e.kind === "file");
    const offer = [
      encodeFrame(
        FrameType.HELLO,
        encodeHello({
          streams: 2,
          segmentSize: 1 << 20,
          entries: entries.length,
          files: files.length,
          directories: 1,
          totalBytes: files.reduce((n, f) => n + f.size, 0),
        }),
      ),
      ...[...batchEntries(entries)].map((p) => encodeFrame(FrameType.ENTRIES, p)),
      encodeFrame(
        FrameType.MANIFEST_END,
        encodeManifestEnd({ entries: entries.length, skipped: 0 }),
      ),
    ];
    const valid = concatBytes(offer);
    assert.equal(
      (await readManifest(new ByteReader(streamOf(valid, r), { what: "fuzz" }))).entries.length,
      3,
    );
    for (let i = 0; i < 5_000; i++) {
      signal.throwIfAborted();
      const input = i % 5 === 0 ? randomInput(r, 200) : mutate(r, valid);
      try {
        await readManifest(new ByteReader(streamOf(input, r), { what: "fuzz" }));
      } catch (error) {
        // Path rules are not decoding: a mutated name may be refused as unsafe.
        if (!(error instanceof ProtocolError) && !(error instanceof UnsafePathError)) {
          assert.fail(`readManifest threw ${error} (seed ${seed}, input ${i})`);
        }
      }
      try {
        await readFrame(new ByteReader(streamOf(input, r), { what: "fuzz" }), {
          expect: Object.values(FrameType),
          what: "fuzz",
        });
      } catch (error) {
        if (!(error instanceof ProtocolError)) {
          assert.fail(`readFrame threw ${error} (seed ${seed}, input ${i})`);
        }
      }
    }
  });
});
