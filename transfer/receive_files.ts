/** The receiving role: validate the offer, answer with a resume plan, receive, verify, confirm. */
import { abortable } from "../async.ts";
import { fromHex } from "../bytes.ts";
import { createHash } from "node:crypto";
import { resolve, sep as SEP } from "node:path";
import { P2pftError, ProtocolError, TransferRefusedError } from "../errors.ts";
import type { ByteReader } from "../byte_reader.ts";
import { streamReader } from "./_stream_reader.ts";
import { peerError, preferPeerError, transferDigest } from "./_control.ts";
import { ControlStream } from "./_control_stream.ts";
import { encodeFrame, FrameType, readFrame } from "./_frame.ts";
import { batchPlan, decodeDecisions } from "./_resume_messages.ts";
import {
  type Decision,
  decodeDataHello,
  decodeError,
  decodeStart,
  encodeCount,
  encodeDone,
  FILE_TRAILER_BYTES,
  FileStatus,
  type ManifestEntry,
  type Start,
} from "./_messages.ts";
import {
  type IncomingFile,
  receiveData,
  type ReceiveDataOptions,
  type ReceivedFile,
} from "./_receive_data.ts";
import { receiveIntoSink } from "./_receive_sink.ts";
import { readManifest } from "./_receive_manifest.ts";
import { receiveText } from "./_receive_text.ts";
import { inspectTarget, localPath, type TargetPlan } from "./_receive_plan.ts";
import { probeNameRules } from "./_name_rules.ts";
import { unholdableNames } from "./_path_safety.ts";
import type { ReceiveFilesOptions, StreamConnection, TransferReport } from "./types.ts";

/** A slow disk's SHA-256 rate (20 MB/s): the time the sender may take to hash what we resume. */
const HASH_BYTES_PER_MS = 20_000;

/**
 * Receives one transfer into `outDir`. Resolves after every file was verified,
 * published under its final name, and DONE was sent to the sender.
 */
export async function receiveFiles(options: ReceiveFilesOptions): Promise<TransferReport> {
  let started = performance.now();
  const outDir = resolve(options.outDir);
  using control = await ControlStream.open("receiver", options);
  const { signal, watch, stallMs, writer, reader } = control;
  const dataReaders: ByteReader[] = [];
  try {
    const { hello, entries, notSent, text } = await readManifest(reader);
    watch.pause();
    if (text !== undefined) {
      return await receiveText(text, { writer, reader, confirm: options.confirm, signal });
    }
    const unknownSize = entries.some((entry) => entry.unknownSize);
    // One file of unknown size is a stream (`send -`, a pseudo-file such as /proc/cpuinfo).
    const stream = unknownSize && entries.length === 1;
    const offer = {
      files: hello.files,
      directories: hello.directories,
      bytes: hello.totalBytes,
      entries: entries.map(({ path, size, kind, unknownSize }) => ({
        path,
        size,
        kind,
        ...(unknownSize ? { unknownSize } : {}),
      })),
      ...(stream ? { unknownSize: true } : {}),
      ...(hello.allowChanging ? { allowChanging: true } : {}),
      notSent,
    };
    if (options.sink && (hello.files !== 1 || hello.directories !== 0)) {
      throw new TransferRefusedError(
        `Refusing an offer of ${hello.files} files and ${hello.directories} folders: only one file can be written to a stream`,
      );
    }
    if (options.confirm && !(await abortable(options.confirm(offer), signal))) {
      throw new TransferRefusedError("The offer was declined");
    }
    // The clock starts once the person said yes: seconds measure the transfer.
    started = performance.now();
    // Into a stream: nothing on disk is looked at, so nothing is skipped or resumed.
    const unholdable = options.sink ? new Map<number, string>() : unholdableNames(
      entries.map((entry) => entry.path),
      options.nameRules ?? await probeNameRules(outDir),
    );
    const plan = options.sink
      ? emptyPlan(unholdable)
      : await inspectTarget(outDir, entries, { signal, unholdable });
    for (const payload of batchPlan(plan.items)) {
      await abortable(writer.write(encodeFrame(FrameType.PLAN, payload)), signal);
    }
    await abortable(
      writer.write(encodeFrame(FrameType.PLAN_END, encodeCount(plan.items.length))),
      signal,
    );
    // The sender hashes the prefixes we resume before it decides.
    const resumed = plan.items.reduce((sum, item) => sum + item.length, 0);
    watch.enter("decision", stallMs + resumed / HASH_BYTES_PER_MS);
    const { decisions, start } = await readDecisions(reader);
    const incoming = planIncoming(outDir, entries, plan, decisions, start);

    if (!options.sink) createDirectories(outDir, entries, plan);
    const monitor = watchControl(reader);
    const progress = control.startData(monitor, {
      already: incoming.skippedBytes + incoming.resumedBytes,
      total: hello.totalBytes,
      unknownSize,
      onProgress: options.onProgress,
    });
    let received = new Map<string, ReceivedFile>();
    try {
      for (let index = 0; index < start.streams; index++) {
        dataReaders.push(
          await acceptDataStream(options.connection, start.streams, signal, dataReaders),
        );
      }
      dataReaders.sort((a, b) => order.get(a)! - order.get(b)!);
      const receive = options.sink
        ? (files: IncomingFile[], data: ReceiveDataOptions) =>
          receiveIntoSink(files, options.sink!, data)
        : receiveData;
      received = await receive(incoming.files, {
        readers: dataReaders,
        segmentSize: hello.segmentSize,
        signal,
        onBytes: progress.onBytes,
        onRestart: progress.onRestart,
        allowChanging: hello.allowChanging,
      });
    } catch (error) {
      throw signal.aborted ? signal.reason : await preferPeerError(error, monitor);
    }
    watch.stop();
    if (!options.sink) finishDirectories(outDir, entries, plan);

    const files = entries.filter((entry, index) => entry.kind === "file" && !unholdable.has(index))
      .map((entry) => ({
        path: entry.path,
        ...(received.get(entry.path) ?? incoming.known.get(entry.path)!),
      }));
    const sha256 = transferDigest(files, hello.directories);
    await abortable(
      writer.write(
        encodeFrame(FrameType.DONE, encodeDone({ files: files.length, digest: fromHex(sha256) })),
      ),
      signal,
    );
    await writer.close().catch(() => {});
    // The sender closes its side once it has read DONE. Files are already safe
    // on disk, so a lost connection at this point is not an error.
    await monitor.catch(() => {});
    return progress.report(started, {
      files: hello.files,
      directories: hello.directories,
      sha256,
      resumedFiles: incoming.resumedFiles,
      skippedFiles: incoming.skippedFiles,
      resent: [...received].filter(([, file]) => file.resent).map(([path]) => path),
      changed: [...received].filter(([, file]) => file.status === FileStatus.CHANGED)
        .map(([path]) => path),
      notWritten: [...unholdable].map(([index, reason]) => ({ path: entries[index].path, reason })),
      notSent,
      ...(options.sink ? {} : { saved: savedNames(entries, unholdable) }),
    });
  } catch (error) {
    const reason = signal.aborted && !(error instanceof P2pftError) ? signal.reason : error;
    const tell = (message: string) => withoutLocalPaths(message, outDir);
    await control.fail(reason, { tell, readers: dataReaders });
    throw reason;
  }
}

/** The sender learns why, not where: our absolute paths become paths relative to the output folder. */
function withoutLocalPaths(message: string, outDir: string): string {
  if (!message.includes(outDir)) return message;
  return message.replaceAll(`${outDir}${SEP}`, "").replaceAll(outDir, "the output folder");
}

/** The first top-level names written (what the user looks for after Done). */
function savedNames(entries: ManifestEntry[], skipped: Map<number, unknown>): string[] {
  const names: string[] = [];
  for (const [index, entry] of entries.entries()) {
    if (names.length === 100) break;
    if (entry.path.includes("/") || skipped.has(index)) continue;
    names.push(entry.kind === "directory" ? `${entry.path}/` : entry.path);
  }
  return names;
}

const order = new WeakMap<ByteReader, number>();

async function acceptDataStream(
  connection: StreamConnection,
  count: number,
  signal: AbortSignal,
  accepted: ByteReader[],
): Promise<ByteReader> {
  const stream = await abortable(connection.acceptStream(), signal);
  stream.writable.close().catch(() => {});
  const reader = streamReader(stream.readable, "data stream", signal, true);
  const frame = await readFrame(reader, { expect: [FrameType.DATA_HELLO], what: "data stream" });
  const hello = decodeDataHello(frame.payload);
  if (hello.count !== count || accepted.some((other) => order.get(other) === hello.index)) {
    await reader.cancel();
    throw new ProtocolError(
      `Cannot accept data stream ${hello.index} of ${hello.count}: expected ${count} distinct streams`,
    );
  }
  order.set(reader, hello.index);
  return reader;
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

interface Incoming {
  files: IncomingFile[];
  known: Map<string, { size: number; sha256: string }>;
  skippedFiles: number;
  skippedBytes: number;
  resumedFiles: number;
  resumedBytes: number;
}

/** Checks the sender's decisions against our plan and lists what will arrive, in order. */
function planIncoming(
  outDir: string,
  entries: ManifestEntry[],
  plan: TargetPlan,
  decisions: Decision[],
  start: Start,
): Incoming {
  const kinds = new Map(plan.items.map((item) => [item.index, item]));
  const actions = new Map<number, Decision["action"]>();
  for (const decision of decisions) {
    const item = kinds.get(decision.index);
    const allowed = item?.kind === "exists" || item?.kind === "unholdable"
      ? decision.action === "skip"
      : decision.action !== "skip";
    if (!item || actions.has(decision.index) || !allowed) {
      throw new ProtocolError(
        `Cannot decode DECISIONS: ${decision.action} for index ${decision.index} does not match the plan`,
      );
    }
    actions.set(decision.index, decision.action);
  }
  if (actions.size !== plan.items.length || start.decisions !== decisions.length) {
    throw new ProtocolError(
      `Cannot decode DECISIONS: ${decisions.length} decisions (START says ${start.decisions}) for ${plan.items.length} plan items`,
    );
  }
  const incoming: Incoming = {
    files: [],
    known: new Map(),
    skippedFiles: 0,
    skippedBytes: 0,
    resumedFiles: 0,
    resumedBytes: 0,
  };
  let dataBytes = 0;
  for (const [index, entry] of entries.entries()) {
    if (entry.kind !== "file") continue;
    const action = actions.get(index) ?? "send";
    const hash = plan.hashes.get(index);
    if (plan.unholdable.has(index)) continue;
    if (action === "skip") {
      incoming.known.set(entry.path, { size: entry.size, sha256: hash!.digest("hex") });
      incoming.skippedFiles++;
      incoming.skippedBytes += entry.size;
      continue;
    }
    const offset = action === "resume" ? kinds.get(index)!.length : 0;
    if (action === "resume") {
      incoming.resumedFiles++;
      incoming.resumedBytes += offset;
    }
    incoming.files.push({
      path: entry.path,
      target: localPath(outDir, entry.path),
      size: entry.size,
      offset,
      hash: action === "resume" ? hash! : createHash("sha256"),
      mode: entry.mode,
      mtimeMs: entry.mtimeMs,
      unknownSize: entry.unknownSize,
    });
    dataBytes += entry.size - offset + FILE_TRAILER_BYTES;
  }
  if (dataBytes !== start.dataBytes) {
    throw new ProtocolError(
      `Cannot decode START: ${start.dataBytes} data bytes announced, ${dataBytes} expected`,
    );
  }
  return incoming;
}

function emptyPlan(unholdable: Map<number, string>): TargetPlan {
  return {
    items: [],
    hashes: new Map(),
    existingDirectories: new Set(),
    createOutDir: false,
    unholdable,
  };
}

/** Sync calls, as for files (see _publish.ts). */
function createDirectories(outDir: string, entries: ManifestEntry[], plan: TargetPlan): void {
  if (plan.createOutDir) Deno.mkdirSync(outDir, { recursive: true });
  for (const [index, entry] of entries.entries()) {
    if (entry.kind !== "directory" || plan.existingDirectories.has(index)) continue;
    if (plan.unholdable.has(index)) continue;
    Deno.mkdirSync(localPath(outDir, entry.path), { mode: 0o700 });
  }
}

/** Modes and mtimes of the directories we created, deepest first (children change parents' mtimes). */
function finishDirectories(outDir: string, entries: ManifestEntry[], plan: TargetPlan): void {
  for (let index = entries.length - 1; index >= 0; index--) {
    const entry = entries[index];
    if (entry.kind !== "directory" || plan.existingDirectories.has(index)) continue;
    if (plan.unholdable.has(index)) continue;
    const path = localPath(outDir, entry.path);
    if (Deno.build.os !== "windows") Deno.chmodSync(path, entry.mode & 0o777);
    if (entry.mtimeMs !== null) Deno.utimeSync(path, new Date(), new Date(entry.mtimeMs));
  }
}
