/** The sending role: offer a manifest, agree on resume/skip, stream the bytes, wait for DONE. */
import {
  abortable,
  type ByteReader,
  ConnectionLostError,
  equalBytes,
  fromHex,
  IntegrityError,
  ProtocolError,
  toHex,
} from "../base/mod.ts";
import { peerError, preferPeerError, transferDigest } from "./_control.ts";
import { ControlStream } from "./_control_stream.ts";
import {
  batchDecisions,
  batchEntries,
  batchNotSent,
  type Decision,
  decodeDone,
  decodeError,
  decodePlan,
  decodePlanEnd,
  type Done,
  encodeFrame,
  encodeHello,
  encodeManifestEnd,
  encodeStart,
  FILE_TRAILER_BYTES,
  FileStatus,
  FrameType,
  LIMITS,
  type PlanItem,
  readFrame,
  writeFrames,
} from "./wire/mod.ts";
import { hashFilePrefix } from "./_hash_file.ts";
import type { SourceManifest } from "./scan_paths.ts";
import { type OutgoingFile, sendData } from "./_send_data.ts";
import type { SendFilesOptions, TransferReport } from "./types.ts";

/** Why the receiver does not write a file, by PLAN item kind. */
const NOT_WRITTEN = {
  unholdable: "the receiver's file system cannot hold this name",
  kept: "the receiver has a different entry with this name and keeps it",
} as const;

/** Default number of parallel data streams (see PROTOCOL.md, design notes). */
export const DEFAULT_STREAMS = 4;
/** Bytes per DATA segment. */
export const SEGMENT_SIZE = 1024 * 1024;
/**
 * A slow disk's time to create, sync and publish one small file: what the
 * confirmation deadline grants per file sent, since the transport's buffers
 * may still hold the records of 200,000 tiny files when the last is sent.
 */
const CONFIRM_MS_PER_FILE = 2;

/**
 * Sends exactly `manifest` (from `scanPaths`) to the peer. Resolves only after
 * the receiver confirmed every file's SHA-256 (the DONE frame).
 */
export async function sendFiles(
  manifest: SourceManifest,
  options: SendFilesOptions,
): Promise<TransferReport> {
  let started = performance.now();
  const streams = options.streams ?? DEFAULT_STREAMS;
  if (!Number.isInteger(streams) || streams < 1 || streams > LIMITS.maxStreams) {
    throw new RangeError(
      `Cannot send: streams must be an integer in 1..${LIMITS.maxStreams}, got ${streams}`,
    );
  }
  using control = await ControlStream.open("sender", options);
  const { signal, watch, stallMs, writer, reader } = control;
  let answer: Promise<Done> | undefined;
  try {
    const allowChanging = options.allowChanging ?? false;
    await abortable(writeFrames(writer, offerFrames(manifest, streams, allowChanging)), signal);
    // The receiver may be asking its user: bounded by how long we wait for an answer.
    watch.enter("decision", options.acceptTimeoutMs ?? stallMs);
    options.onWaitingForAccept?.();
    const plan = await abortable(readPlan(reader, manifest), signal);
    watch.pause();
    // The plan comes once the receiver accepted: seconds measure the transfer.
    started = performance.now();
    const decided = await decide(manifest, plan, signal);
    const outgoing = decided.outgoing;
    const dataBytes = outgoing.reduce(
      (sum, file) => sum + file.size - file.offset + FILE_TRAILER_BYTES,
      0,
    );
    // A stream of unknown size may be long: it gets every data stream.
    const unknownSize = manifest.entries.some((entry) => entry.unknownSize);
    // A file of unknown size that is sent may be long: it gets every data stream.
    const long = outgoing.some((file) => file.unknownSize);
    const used = long ? streams : Math.min(streams, Math.ceil(dataBytes / SEGMENT_SIZE));
    const start = { streams: used, decisions: decided.decisions.length, dataBytes };
    const decisionFrames = [...batchDecisions(decided.decisions)]
      .map((payload) => encodeFrame(FrameType.DECISIONS, payload));
    await abortable(
      writeFrames(writer, [...decisionFrames, encodeFrame(FrameType.START, encodeStart(start))]),
      signal,
    );
    // From here the receiver only speaks to report DONE or an ERROR.
    answer = readAnswer(reader);
    const progress = control.startData(answer, {
      already: decided.skippedBytes + decided.resumedBytes,
      total: manifest.bytes,
      unknownSize,
      onProgress: options.onProgress,
    });
    if (used > 0) {
      await sendData(outgoing, {
        connection: options.connection,
        streams: used,
        segmentSize: SEGMENT_SIZE,
        signal,
        allowChanging,
        fail: (error) =>
          control.abort(
            new ConnectionLostError(`Cannot write a data stream: ${error}`, { cause: error }),
          ),
        onBytes: progress.onBytes,
        onRestart: progress.onRestart,
      });
    }
    // The receiver verifies and syncs its last file, then answers. The transport
    // may hold the records of many small files it has yet to write and sync.
    watch.enter("confirmation", stallMs + outgoing.length * CONFIRM_MS_PER_FILE);
    const confirmed = await abortable(answer, signal);
    watch.pause();

    const sent = new Map<string, { size: number; sha256: string }>(decided.known);
    for (const file of outgoing) {
      sent.set(file.path, { size: file.sent!.size, sha256: toHex(file.sent!.digest) });
    }
    const notWritten = new Set(decided.notWritten.map((item) => item.path));
    const files = manifest.entries
      .filter((entry) => entry.kind === "file" && !notWritten.has(entry.path))
      .map((entry) => ({ path: entry.path, ...sent.get(entry.path)! }));
    const sha256 = transferDigest(files, manifest.directories);
    const confirmedHex = toHex(confirmed.digest);
    const expected = fromHex(sha256);
    if (confirmed.files !== files.length || !equalBytes(confirmed.digest, expected)) {
      throw new IntegrityError(
        `Receiver confirmed ${confirmed.files} files with digest ${confirmedHex}, expected ${files.length} files with ${
          toHex(expected)
        }`,
      );
    }
    await control.finish();
    return progress.report(started, {
      files: manifest.files,
      directories: manifest.directories,
      sha256,
      resumedFiles: decided.resumedFiles,
      skippedFiles: decided.skippedFiles,
      resent: outgoing.filter((file) => file.sent!.resent)
        .map((file) => file.path),
      changed: outgoing.filter((file) => file.sent!.status === FileStatus.CHANGED)
        .map((file) => file.path),
      notWritten: decided.notWritten,
      notSent: manifest.skipped.map(({ path, kind }) => ({ path, kind })),
    });
  } catch (error) {
    let reason = signal.aborted ? signal.reason : error;
    if (answer && !options.signal?.aborted) reason = await preferPeerError(reason, answer);
    await control.fail(reason);
    throw reason;
  }
}

async function readAnswer(reader: ByteReader): Promise<Done> {
  const frame = await readFrame(reader, {
    expect: [FrameType.DONE, FrameType.ERROR],
    what: "answer",
  });
  if (frame.type === FrameType.ERROR) throw peerError(decodeError(frame.payload), "receiver");
  return decodeDone(frame.payload);
}

/** HELLO, the manifest's ENTRIES and MANIFEST_END: written at once, in as few writes as fit. */
function* offerFrames(
  manifest: SourceManifest,
  streams: number,
  allowChanging: boolean,
): Generator<Uint8Array> {
  yield encodeFrame(
    FrameType.HELLO,
    encodeHello({
      allowChanging,
      streams,
      segmentSize: SEGMENT_SIZE,
      entries: manifest.entries.length,
      files: manifest.files,
      directories: manifest.directories,
      links: manifest.links,
      totalBytes: manifest.bytes,
    }),
  );
  for (const payload of batchEntries(manifest.entries)) {
    yield encodeFrame(FrameType.ENTRIES, payload);
  }
  for (const payload of batchNotSent(manifest.skipped)) {
    yield encodeFrame(FrameType.SKIPPED, payload);
  }
  yield encodeFrame(
    FrameType.MANIFEST_END,
    encodeManifestEnd({ entries: manifest.entries.length, skipped: manifest.skipped.length }),
  );
}

interface Plan {
  items: PlanItem[];
  /** The receiver keeps a different existing file instead of writing beside it. */
  keepExisting: boolean;
}

async function readPlan(reader: ByteReader, manifest: SourceManifest): Promise<Plan> {
  const items: PlanItem[] = [];
  const seen = new Set<number>();
  while (true) {
    const frame = await readFrame(reader, {
      expect: [FrameType.PLAN, FrameType.PLAN_END, FrameType.ERROR],
      what: "resume plan",
    });
    if (frame.type === FrameType.ERROR) throw peerError(decodeError(frame.payload), "receiver");
    if (frame.type === FrameType.PLAN_END) {
      const end = decodePlanEnd(frame.payload);
      if (end.items !== items.length) {
        throw new ProtocolError(
          `Cannot decode PLAN_END: count ${end.items}, received ${items.length} items`,
        );
      }
      return { items, keepExisting: end.keepExisting };
    }
    for (const item of decodePlan(frame.payload)) {
      const entry = manifest.entries[item.index];
      // A file of unknown size is never compared with a file or resumed (it may be not written).
      const notSent = item.kind === "unholdable" || item.kind === "kept";
      const compared = entry?.unknownSize && !notSent;
      if (!entry || entry.kind !== "file" || compared || seen.has(item.index)) {
        throw new ProtocolError(
          `Cannot decode PLAN: item for index ${item.index} is not a new file entry`,
        );
      }
      const length = item.kind === "exists" ? entry.size : notSent ? 0 : undefined;
      if (item.length > entry.size || (length !== undefined && item.length !== length)) {
        throw new ProtocolError(
          `Cannot decode PLAN: ${item.kind} length ${item.length} does not fit ${entry.path} (${entry.size} bytes)`,
        );
      }
      seen.add(item.index);
      items.push(item);
    }
  }
}

interface Decided {
  decisions: Decision[];
  outgoing: OutgoingFile[];
  known: Map<string, { size: number; sha256: string }>;
  /** Files the receiver does not write (a name it cannot hold, or an existing file it keeps). */
  notWritten: Array<{ path: string; reason: string }>;
  skippedFiles: number;
  skippedBytes: number;
  resumedFiles: number;
  resumedBytes: number;
}

/** Compares the receiver's existing files and partials with ours (one pass, before any data). */
async function decide(
  manifest: SourceManifest,
  plan: Plan,
  signal: AbortSignal,
): Promise<Decided> {
  const decided: Decided = {
    decisions: [],
    outgoing: [],
    known: new Map(),
    notWritten: [],
    skippedFiles: 0,
    skippedBytes: 0,
    resumedFiles: 0,
    resumedBytes: 0,
  };
  const byIndex = new Map(plan.items.map((item) => [item.index, item]));
  for (let index = 0; index < manifest.entries.length; index++) {
    const entry = manifest.entries[index];
    if (entry.kind !== "file") continue;
    const item = byIndex.get(index);
    const file = {
      path: entry.path,
      source: entry.source,
      size: entry.size,
      snapshot: entry.snapshot,
      stream: entry.stream,
      unknownSize: entry.unknownSize,
    };
    if (!item) {
      decided.outgoing.push({ ...file, offset: 0 });
      continue;
    }
    if (item.kind === "unholdable" || item.kind === "kept") {
      decided.decisions.push({ index, action: "skip" });
      decided.notWritten.push({ path: entry.path, reason: NOT_WRITTEN[item.kind] });
      continue;
    }
    const hash = await hashFilePrefix(entry.source, item.length, { signal, label: entry.path });
    const matches = equalBytes(hash.copy().digest(), item.sha256);
    if (item.kind === "exists" && !matches) {
      // Never overwritten: written beside it under a free name, or kept, as the receiver chose.
      if (plan.keepExisting) {
        decided.decisions.push({ index, action: "keep" });
        decided.notWritten.push({ path: entry.path, reason: NOT_WRITTEN.kept });
      } else {
        decided.decisions.push({ index, action: "send" });
        decided.outgoing.push({ ...file, offset: 0 });
      }
      continue;
    }
    if (item.kind === "exists") {
      decided.decisions.push({ index, action: "skip" });
      decided.known.set(entry.path, { size: entry.size, sha256: hash.digest("hex") });
      decided.skippedFiles++;
      decided.skippedBytes += entry.size;
    } else if (matches) {
      decided.decisions.push({ index, action: "resume" });
      decided.outgoing.push({ ...file, offset: item.length, hash });
      decided.resumedFiles++;
      decided.resumedBytes += item.length;
    } else {
      decided.decisions.push({ index, action: "send" });
      decided.outgoing.push({ ...file, offset: 0 });
    }
  }
  return decided;
}
