/** The sending role: offer a manifest, agree on resume/skip, stream the bytes, wait for DONE. */
import {
  abortable,
  type ByteReader,
  concatBytes,
  ConnectionLostError,
  equalBytes,
  fromHex,
  IntegrityError,
  toHex,
} from "../base/mod.ts";
import { DIGEST_LINE_BYTES, peerError, preferPeerError, transferDigest } from "./_control.ts";
import { ControlStream } from "./_control_stream.ts";
import {
  batchDecisions,
  batchEntries,
  batchNotSent,
  decodeDone,
  decodeError,
  type Done,
  encodeFrame,
  encodeHello,
  encodeManifestEnd,
  encodeStart,
  FILE_TRAILER_BYTES,
  FileStatus,
  FrameType,
  LIMITS,
  readFrame,
  writeFrames,
} from "./wire/mod.ts";
import { decide, type Decided, type Plan, readPlan } from "./_send_decide.ts";
import type { SourceManifest } from "./scan_paths.ts";
import { sendData, type SentFile } from "./_send_data.ts";
import { newSha256, type Sha256 } from "./_sha256.ts";
import type { SendFilesOptions, TransferReport } from "./types.ts";
import { INLINE_MAX_BYTES, SEGMENT_SIZE } from "./first_streams_mod.ts";

export { INLINE_MAX_BYTES, SEGMENT_SIZE } from "./first_streams_mod.ts";

/** Default number of parallel data streams (see PROTOCOL.md, design notes). */
export const DEFAULT_STREAMS = 4;
/** Files a DATA segment of a tree of small files holds, about (`segmentSizeFor`). */
const FILES_PER_SEGMENT = 256;

/**
 * The DATA segment size for `manifest` (HELLO tells the receiver): 1 MiB, less
 * for small files, a power of two that holds about `FILES_PER_SEGMENT` of
 * them. The receiver takes a segment only once it is whole (a short one is
 * the last), so 20,000 files of 16 bytes, all in one 1 MiB segment, reached it
 * only after the sender had read every one: the receiver wrote nothing
 * meanwhile, and each later segment waited for the reads of 21,000 more.
 */
export function segmentSizeFor(manifest: SourceManifest): number {
  // A stream's size is unknown (stdin, a pseudo-file): it may be long.
  if (manifest.files === 0 || manifest.entries.some((entry) => entry.unknownSize)) {
    return SEGMENT_SIZE;
  }
  const perFile = manifest.bytes / manifest.files + FILE_TRAILER_BYTES;
  const size = 2 ** Math.ceil(Math.log2(perFile * FILES_PER_SEGMENT));
  return Math.min(SEGMENT_SIZE, Math.max(LIMITS.minSegmentSize, size));
}
/**
 * A slow disk's time to create, sync and publish one small file: what the
 * confirmation deadline grants per file sent, since the transport's buffers
 * may still hold the records of 200,000 tiny files when the last is sent.
 */
const CONFIRM_MS_PER_FILE = 2;

/**
 * Sends exactly `manifest` (from `scanPaths`) to the peer. Resolves only after
 * the receiver confirmed every file's SHA-256 (the DONE frame). Three phases,
 * each taking what the one before returned: offer, decisions, data.
 */
export async function sendFiles(
  manifest: SourceManifest,
  options: SendFilesOptions,
): Promise<TransferReport> {
  const streams = options.streams ?? DEFAULT_STREAMS;
  if (!Number.isInteger(streams) || streams < 1 || streams > LIMITS.maxStreams) {
    throw new RangeError(
      `Cannot send: streams must be an integer in 1..${LIMITS.maxStreams}, got ${streams}`,
    );
  }
  using control = await ControlStream.open("sender", options);
  /** Tells the receiver why, preferring its own report once it may have one (`answer`). */
  const fail = (answer?: Promise<Done>) => async (error: unknown): Promise<never> => {
    let reason = control.signal.aborted ? control.signal.reason : error;
    if (answer && !options.signal?.aborted) reason = await preferPeerError(reason, answer);
    await control.fail(reason);
    throw reason;
  };
  const plan = await offer(control, manifest, { ...options, streams }).catch(fail());
  const agreed = await decideAndStart(control, plan, { streams }).catch(fail());
  // From here the receiver only speaks to report DONE or an ERROR.
  const answer = readAnswer(control.reader);
  return await sendAll(control, { ...agreed, answer }, options).catch(fail(answer));
}

/** What the offer phase hands on: the receiver's plan for the manifest it accepted. */
interface Offered {
  manifest: SourceManifest;
  plan: Plan;
  allowChanging: boolean;
  /** Bytes per DATA segment, as HELLO said. */
  segmentSize: number;
  /** When the receiver accepted: seconds measure the transfer. */
  started: number;
}

/** Offer phase: the manifest out, then the receiver's plan (it may first ask its user). */
async function offer(
  control: ControlStream,
  manifest: SourceManifest,
  options: SendFilesOptions & { streams: number },
): Promise<Offered> {
  const { signal, watch, writer } = control;
  const allowChanging = options.allowChanging ?? false;
  const segmentSize = segmentSizeFor(manifest);
  await abortable(
    writeFrames(writer, offerFrames(manifest, { ...options, segmentSize, allowChanging })),
    signal,
  );
  // The receiver may be asking its user: bounded by how long we wait for an answer.
  watch.enter("decision", options.acceptTimeoutMs ?? control.stallMs);
  const plan = await abortable(
    readPlan(control.reader, manifest, options.onWaitingForAccept),
    signal,
  );
  watch.pause();
  // The plan comes once the receiver accepted: seconds measure the transfer.
  return { manifest, plan, allowChanging, segmentSize, started: performance.now() };
}

/** What the decisions phase agreed: what is sent, on how many streams. */
interface Agreed extends Offered {
  decided: Decided;
  /** Data streams used: none when nothing is sent, or when it is sent inline. */
  streams: number;
  /** The data goes on the control stream, after these frames (DECISIONS, START), in one write. */
  inline?: Uint8Array;
}

/** Decisions phase: compares the plan with our files, sends DECISIONS and START. */
async function decideAndStart(
  control: ControlStream,
  offered: Offered,
  options: { streams: number },
): Promise<Agreed> {
  const { signal } = control;
  const decided = await decide(offered.manifest, offered.plan, signal);
  const outgoing = decided.outgoing;
  const dataBytes = outgoing.reduce(
    (sum, file) => sum + file.size - file.offset + FILE_TRAILER_BYTES,
    0,
  );
  // A file of unknown size that is sent may be long: it gets every data stream.
  const long = outgoing.some((file) => file.unknownSize);
  const inline = offered.plan.inline && !long && dataBytes > 0 && dataBytes <= INLINE_MAX_BYTES;
  const streams = long
    ? options.streams
    : inline
    ? 0
    : Math.min(options.streams, Math.ceil(dataBytes / SEGMENT_SIZE));
  const start = { inline, streams, decisions: decided.decisions.length, dataBytes };
  const frames = [
    ...[...batchDecisions(decided.decisions)]
      .map((payload) => encodeFrame(FrameType.DECISIONS, payload)),
    encodeFrame(FrameType.START, encodeStart(start)),
  ];
  // Inline data leaves in the same write as START (sendData).
  if (inline) return { ...offered, decided, streams, inline: concatBytes(frames) };
  await abortable(writeFrames(control.writer, frames), signal);
  return { ...offered, decided, streams };
}

/** Data phase: every outgoing file's bytes, then the receiver's DONE checked against ours. */
async function sendAll(
  control: ControlStream,
  agreed: Agreed & { answer: Promise<Done> },
  options: SendFilesOptions,
): Promise<TransferReport> {
  const { signal, watch } = control;
  const { manifest, decided, answer } = agreed;
  const outgoing = decided.outgoing;
  const progress = control.startData(answer, {
    already: decided.skippedBytes + decided.resumedBytes,
    total: manifest.bytes,
    // A file of unknown size: progress has no total.
    unknownSize: manifest.entries.some((entry) => entry.unknownSize),
    onProgress: options.onProgress,
  });
  const nothing = agreed.streams === 0 && !agreed.inline;
  const sent = nothing ? new Map<string, SentFile>() : await sendData(outgoing, {
    connection: options.connection,
    inline: agreed.inline && { writer: control.writer, first: agreed.inline },
    streams: agreed.streams,
    segmentSize: agreed.segmentSize,
    signal,
    allowChanging: agreed.allowChanging,
    fail: (error) =>
      control.abort(
        new ConnectionLostError(`Cannot write a data stream: ${error}`, { cause: error }),
      ),
    onBytes: progress.onBytes,
    onRestart: progress.onRestart,
  });
  // The receiver verifies and syncs its last file, then answers. The transport
  // may hold the records of many small files it has yet to write and sync.
  watch.enter("confirmation", control.stallMs + outgoing.length * CONFIRM_MS_PER_FILE);
  const confirmed = await abortable(answer, signal);
  watch.pause();
  const digestHash = await newSha256(manifest.entries.length * DIGEST_LINE_BYTES);
  const sha256 = checkConfirmed(confirmed, manifest, decided, sent, digestHash);
  await control.finish();
  const sentFiles = [...sent];
  return progress.report(agreed.started, {
    files: manifest.files,
    directories: manifest.directories,
    sha256,
    resumedFiles: decided.resumedFiles,
    skippedFiles: decided.skippedFiles,
    resent: sentFiles.filter(([, file]) => file.resent).map(([path]) => path),
    changed: sentFiles.filter(([, file]) => file.status === FileStatus.CHANGED)
      .map(([path]) => path),
    notWritten: decided.notWritten,
    notSent: manifest.skipped.map(({ path, kind }) => ({ path, kind })),
  });
}

/**
 * The transfer digest of what the receiver writes, by our count: skipped files
 * as we hashed them, the rest as sent. Throws unless DONE says the same.
 */
function checkConfirmed(
  confirmed: Done,
  manifest: SourceManifest,
  decided: Decided,
  sent: Map<string, SentFile>,
  hash: Sha256,
): string {
  const notWritten = new Set(decided.notWritten.map((item) => item.path));
  // A file missing from both maps is left out: the count then differs and the check fails.
  // Walked, not collected into an object per file.
  let count = 0;
  const files = function* () {
    for (const entry of manifest.entries) {
      if (entry.kind !== "file" || notWritten.has(entry.path)) continue;
      const file = decided.known.get(entry.path) ?? sent.get(entry.path);
      if (!file) continue;
      count++;
      yield { path: entry.path, size: file.size, sha256: file.sha256 };
    }
  };
  const sha256 = transferDigest(files(), manifest.directories, hash);
  const expected = fromHex(sha256);
  if (confirmed.files !== count || !equalBytes(confirmed.digest, expected)) {
    throw new IntegrityError(
      `Receiver confirmed ${confirmed.files} files with digest ${
        toHex(confirmed.digest)
      }, expected ${count} files with ${toHex(expected)}`,
    );
  }
  return sha256;
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
  { streams, segmentSize, allowChanging }: {
    streams: number;
    segmentSize: number;
    allowChanging: boolean;
  },
): Generator<Uint8Array> {
  yield encodeFrame(
    FrameType.HELLO,
    encodeHello({
      allowChanging,
      streams,
      segmentSize,
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
