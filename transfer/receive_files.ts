/** The receiving role: validate the offer, answer with a resume plan, receive, verify, confirm. */
import {
  abortable,
  type ByteReader,
  fromHex,
  P2pftError,
  ProtocolError,
  TransferRefusedError,
} from "../base/mod.ts";
import { resolve, sep as SEP } from "node:path";
import { streamReader } from "./_stream_reader.ts";
import { peerError, preferPeerError, transferDigest } from "./_control.ts";
import { ControlStream } from "./_control_stream.ts";
import {
  batchPlan,
  type Decision,
  decodeDataHello,
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
import { receiveText } from "./_receive_text.ts";
import { hashTarget, sinkPlan, surveyTarget, type TargetPlan } from "./_receive_plan.ts";
import {
  createDirectories,
  createLinks,
  finishDirectories,
  type Incoming,
  planIncoming,
  written,
} from "./_receive_incoming.ts";
import { probeNameRules } from "./_name_rules.ts";
import { type NameRules, unholdableNames } from "./_path_safety.ts";
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
      entries: entries.map(({ path, size, kind, unknownSize, target }) => ({
        path,
        size,
        kind,
        ...(unknownSize ? { unknownSize } : {}),
        ...(target !== undefined ? { target } : {}),
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
    // Into a stream: nothing on disk is looked at, so nothing is skipped or resumed.
    const unholdable = options.sink
      ? new Map<number, string>()
      : unholdableEntries(entries, options.nameRules ?? await probeNameRules(outDir));
    // Before asking: which names exist here (lstat only), so the person knows what happens.
    const plan = options.sink ? sinkPlan(unholdable, entries.length) : await surveyTarget(
      outDir,
      entries,
      { signal, unholdable, onExisting: options.onExisting ?? "rename" },
    );
    const shown = {
      ...offer,
      existing: plan.clashes,
      onExisting: plan.onExisting,
      unholdable: [...unholdable].map(([index, reason]) => ({ path: entries[index].path, reason })),
    };
    if (options.confirm && !(await abortable(options.confirm(shown), signal))) {
      throw new TransferRefusedError("The offer was declined");
    }
    // The clock starts once the person said yes: seconds measure the transfer.
    started = performance.now();
    await hashTarget(plan, signal);
    for (const payload of batchPlan(plan.items)) {
      await abortable(writer.write(encodeFrame(FrameType.PLAN, payload)), signal);
    }
    const keepExisting = plan.onExisting === "skip";
    await abortable(
      writer.write(
        encodeFrame(FrameType.PLAN_END, encodePlanEnd({ items: plan.items.length, keepExisting })),
      ),
      signal,
    );
    // The sender hashes the prefixes we resume before it decides.
    const resumed = plan.items.reduce((sum, item) => sum + item.length, 0);
    watch.enter("decision", stallMs + resumed / HASH_BYTES_PER_MS);
    const { decisions, start } = await readDecisions(reader);
    const incoming = planIncoming(entries, plan, decisions, start);

    if (!options.sink) createDirectories(outDir, entries, plan, incoming.kept);
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
    if (!options.sink) {
      createLinks(entries, plan, incoming.kept);
      finishDirectories(entries, plan, incoming.kept);
    }

    const files = entries
      .filter((entry, index) => entry.kind === "file" && written(plan, index, incoming.kept))
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
      notWritten: [...unholdable, ...incoming.kept]
        .map(([index, reason]) => ({ path: entries[index].path, reason })),
      notSent,
      ...(options.sink ? {} : {
        saved: savedNames(entries, plan, incoming),
        renamed: incoming.renamed,
      }),
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

/** What this file system cannot hold; on Windows that includes symlinks (they need privileges). */
function unholdableEntries(entries: ManifestEntry[], rules: NameRules): Map<number, string> {
  const unholdable = unholdableNames(entries.map((entry) => entry.path), rules);
  if (!rules.windows) return unholdable;
  for (const [index, entry] of entries.entries()) {
    if (entry.kind === "symlink" && !unholdable.has(index)) {
      unholdable.set(index, "symbolic links are not created on Windows");
    }
  }
  return unholdable;
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
