/** The receiving role: validate the offer, answer with a resume plan, receive, verify, confirm. */
import { abortable, type ByteReader, fromHex, P2pftError } from "../base/mod.ts";
import { resolve, SEP } from "../base/path.ts";
import type { DataReader } from "./_stream_reader.ts";
import { acceptDataStreams } from "./_accept_streams.ts";
import { InlineData } from "./_inline_data.ts";
import {
  askingNotice,
  DIGEST_LINE_BYTES,
  peerError,
  preferPeerError,
  transferDigest,
} from "./_control.ts";
import { ControlStream } from "./_control_stream.ts";
import {
  batchPlan,
  type Decision,
  decodeDecisions,
  decodeError,
  decodeStart,
  encodeDone,
  encodeFrame,
  encodePlanEnd,
  FileStatus,
  FrameType,
  type ManifestEntry,
  readFrame,
  type Start,
} from "./wire/mod.ts";
import {
  type IncomingFile,
  receiveData,
  type ReceiveDataOptions,
  type ReceivedFile,
} from "./_receive_data.ts";
import { receiveIntoSink } from "./_receive_sink.ts";
import { readManifest } from "./_receive_manifest.ts";
import { type Accepted, acceptOffer } from "./_receive_offer.ts";
import { receiveText } from "./_receive_text.ts";
import { hashTarget, type TargetPlan } from "./_receive_plan.ts";
import {
  createDirectories,
  createLinks,
  finishDirectories,
  type Incoming,
  planIncoming,
  written,
  writtenPaths,
} from "./_receive_incoming.ts";
import { bytesToHash, newSha256, sha256Kind } from "./_sha256.ts";
import { pruneStaged, publishFolders } from "./_staging.ts";
import type { ProgressCounter } from "./_progress.ts";
import type { ReceiveFilesOptions, TransferReport } from "./types.ts";

/** A slow disk's SHA-256 rate (20 MB/s): the time the sender may take to hash what we resume. */
const HASH_BYTES_PER_MS = 20_000;

/**
 * Receives one transfer into `outDir`. Resolves after every file was verified,
 * published under its final name, and DONE was sent to the sender. Four
 * phases, each taking what the one before returned: offer (_receive_offer.ts),
 * plan, data, publish.
 */
export async function receiveFiles(given: ReceiveFilesOptions): Promise<TransferReport> {
  const outDir = resolve(given.outDir);
  const options = { ...given, outDir };
  using control = await ControlStream.open("receiver", options);
  const { signal, writer, reader } = control;
  // Every data stream accepted so far, so that a failure can cancel them.
  const dataReaders: DataReader[] = [];
  try {
    const manifest = await readManifest(reader);
    control.watch.pause();
    const asking = askingNotice(writer, manifest.hello.speaks);
    if (manifest.text !== undefined) {
      const confirm = options.confirm;
      return await receiveText(manifest.text, { writer, reader, confirm, asking, signal });
    }
    const accepted = await acceptOffer(control, manifest, { ...options, asking });
    const agreed = await agreePlan(control, accepted);
    const arrived = await receiveAll(control, agreed, { ...options, dataReaders });
    return await publish(control, arrived, options);
  } catch (error) {
    const reason = signal.aborted && !(error instanceof P2pftError) ? signal.reason : error;
    const tell = (message: string) => withoutLocalPaths(message, outDir);
    await control.fail(reason, { tell, readers: dataReaders });
    throw reason;
  }
}

/** What the plan phase agreed with the sender: what arrives, and on how many streams. */
interface Agreed extends Accepted {
  incoming: Incoming;
  streams: number;
  /** The data comes on the control stream, after START (version 5). */
  inline: boolean;
  /** When the person said yes: seconds measure the transfer. */
  started: number;
}

/**
 * Plan phase: hashes what could be skipped or resumed, sends the plan and
 * reads the sender's decisions.
 */
async function agreePlan(control: ControlStream, accepted: Accepted): Promise<Agreed> {
  const started = performance.now();
  const { signal, writer, watch } = control;
  const { plan } = accepted;
  await hashTarget(plan, signal);
  for (const payload of batchPlan(plan.items)) {
    await abortable(writer.write(encodeFrame(FrameType.PLAN, payload)), signal);
  }
  const keepExisting = plan.onExisting === "skip";
  // Version 5: a small transfer's data may come on this stream (a sender of version 4 ignores it).
  const end = { items: plan.items.length, keepExisting, inline: true };
  await abortable(writer.write(encodeFrame(FrameType.PLAN_END, encodePlanEnd(end))), signal);
  // The sender hashes the prefixes we resume before it decides.
  const resumed = plan.items.reduce((sum, item) => sum + item.length, 0);
  watch.enter("decision", control.stallMs + resumed / HASH_BYTES_PER_MS);
  const { decisions, start } = await readDecisions(control.reader);
  const incoming = planIncoming(accepted.entries, plan, decisions, start);
  return { ...accepted, incoming, streams: start.streams, inline: start.inline ?? false, started };
}

/** What the data phase hands to publishing. */
interface Arrived extends Agreed {
  received: Map<string, ReceivedFile>;
  /** The control stream during the data phase: settles once the sender ends it. */
  monitor: Promise<void>;
  progress: ProgressCounter;
}

/**
 * Data phase: creates the folders, accepts the data streams and receives every
 * file into its partial (or the sink). `dataReaders` collects the accepted streams.
 */
async function receiveAll(
  control: ControlStream,
  agreed: Agreed,
  options: ReceiveFilesOptions & { dataReaders: DataReader[] },
): Promise<Arrived> {
  const { signal } = control;
  const { hello, entries, plan, incoming } = agreed;
  const sink = options.sink;
  if (!sink) {
    createDirectories(options.outDir, entries, plan, incoming.kept);
    pruneStaged(plan.staged, () => writtenPaths(entries, plan, incoming.kept));
  }
  // Inline data is read from the control stream first; the sender speaks only to fail after it.
  const inline = agreed.inline ? new InlineData(control.reader, hello.segmentSize) : undefined;
  const monitor = inline
    ? inline.ended.then(() => watchControl(control.reader))
    : watchControl(control.reader);
  const progress = control.startData(monitor, {
    already: incoming.skippedBytes + incoming.resumedBytes,
    total: hello.totalBytes,
    unknownSize: agreed.unknownSize,
    onProgress: options.onProgress,
  });
  let received: Map<string, ReceivedFile>;
  try {
    const streams = inline
      ? { readers: [inline], accepted: Promise.resolve() }
      : acceptDataStreams(options.connection, agreed.streams, {
        signal,
        onAccepted: (reader) => options.dataReaders.push(reader),
      });
    const receive = sink
      ? (files: IncomingFile[], data: ReceiveDataOptions) => receiveIntoSink(files, sink, data)
      : receiveData;
    received = await receive(incoming.files, {
      readers: streams.readers,
      segmentSize: hello.segmentSize,
      signal,
      onBytes: progress.onBytes,
      onRestart: progress.onRestart,
      allowChanging: hello.allowChanging,
      sha256: await sha256Kind(bytesToHash(incoming.files)),
    });
    await streams.accepted;
  } catch (error) {
    throw signal.aborted ? signal.reason : await preferPeerError(error, monitor);
  }
  control.watch.stop();
  return { ...agreed, received, monitor, progress };
}

/**
 * Publish phase: links and folder times, then DONE with the transfer digest.
 * The files themselves were published as each was verified.
 */
async function publish(
  control: ControlStream,
  arrived: Arrived,
  options: ReceiveFilesOptions,
): Promise<TransferReport> {
  const { hello, entries, plan, incoming, received, unholdable } = arrived;
  if (!options.sink) {
    createLinks(entries, plan, incoming.kept);
    finishDirectories(entries, plan, incoming.kept);
    publishFolders(plan.staged);
  }
  // A file missing from both maps is left out: the sender's digest check then fails loudly.
  // Walked, not collected: an object per file was 50 bytes of 200,000 files' peak.
  let count = 0;
  const files = function* () {
    for (const [index, entry] of entries.entries()) {
      if (entry.kind !== "file" || !written(plan, index, incoming.kept)) continue;
      const facts = received.get(entry.path) ?? incoming.known.get(entry.path);
      if (!facts) continue;
      count++;
      yield { path: entry.path, size: facts.size, sha256: facts.sha256 };
    }
  };
  const hash = await newSha256(entries.length * DIGEST_LINE_BYTES);
  const sha256 = transferDigest(files(), hello.directories, hash);
  await abortable(
    control.writer.write(
      encodeFrame(FrameType.DONE, encodeDone({ files: count, digest: fromHex(sha256) })),
    ),
    control.signal,
  );
  await control.writer.close().catch(() => {});
  // The sender closes its side once it has read DONE. Files are already safe
  // on disk, so a lost connection at this point is not an error.
  await arrived.monitor.catch(() => {});
  return arrived.progress.report(arrived.started, {
    files: hello.files,
    directories: hello.directories,
    sha256,
    resumedFiles: incoming.resumedFiles,
    skippedFiles: incoming.skippedFiles,
    resent: [...received].filter(([, file]) => file.resent).map(([path]) => path),
    changed: [...received].filter(([, file]) => file.status === FileStatus.CHANGED)
      .map(([path]) => path),
    notWritten: [
      ...[...unholdable].map(([index, reason]) => ({
        path: entries[index].path,
        kind: "unholdable" as const,
        reason,
      })),
      ...[...incoming.kept].map(([index, reason]) => ({
        path: entries[index].path,
        kind: "exists" as const,
        reason,
      })),
    ],
    notSent: arrived.notSent,
    ...(options.sink ? {} : {
      saved: savedNames(entries, plan, incoming),
      renamed: incoming.renamed,
    }),
  });
}

/** The sender learns why, not where: our absolute paths become paths relative to the output folder. */
function withoutLocalPaths(message: string, outDir: string): string {
  if (!message.includes(outDir)) return message;
  return message.replaceAll(`${outDir}${SEP}`, "").replaceAll(outDir, "the output folder");
}

/** The first top-level names written, as written (what the user looks for after Done). */
function savedNames(entries: ManifestEntry[], plan: TargetPlan, incoming: Incoming) {
  const renamed = new Map(incoming.renamed.map(({ path, as }) => [path, as]));
  const names: string[] = [];
  for (const [index, entry] of entries.entries()) {
    if (names.length === 100) break;
    if (entry.path.includes("/") || !written(plan, index, incoming.kept)) continue;
    const name = renamed.get(entry.path) ?? entry.path;
    names.push(entry.kind === "directory" ? `${name}/` : name);
  }
  return names;
}

/** During the data phase the sender only speaks to send an ERROR; then it ends the stream. */
async function watchControl(reader: ByteReader): Promise<void> {
  if (await reader.atEnd()) return;
  const frame = await readFrame(reader, { expect: [FrameType.ERROR], what: "control stream" });
  throw peerError(decodeError(frame.payload), "sender");
}

async function readDecisions(reader: ByteReader): Promise<{ decisions: Decision[]; start: Start }> {
  const decisions: Decision[] = [];
  while (true) {
    const frame = await readFrame(reader, {
      expect: [FrameType.DECISIONS, FrameType.START, FrameType.ERROR],
      what: "decisions",
    });
    if (frame.type === FrameType.ERROR) throw peerError(decodeError(frame.payload), "sender");
    if (frame.type === FrameType.START) return { decisions, start: decodeStart(frame.payload) };
    decisions.push(...decodeDecisions(frame.payload));
  }
}
