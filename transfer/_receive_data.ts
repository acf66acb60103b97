/**
 * Receiver hot path: consume DATA segments strictly in order (segment k from
 * stream k mod N), write each file's bytes sequentially into its partial,
 * hash them as they arrive, verify, then publish under the final name.
 */
import { basename, dirname } from "../base/path.ts";
import {
  DiskFullError,
  equalBytes,
  EventLoopTurns,
  formatBytesAtLeast,
  IntegrityError,
  nextTurn,
  ProtocolError,
  toHex,
} from "../base/mod.ts";
import { openPartial, PartialTarget, rollBack } from "./_partial_file.ts";
import { Publisher, type VerifiedPartial } from "./_publish.ts";
import { SegmentReader } from "./_segment_reader.ts";
import type { DataReader } from "./_stream_reader.ts";
import { DIGEST_BYTES, FileStatus } from "./wire/mod.ts";
import { partialPath } from "./_partial_path.ts";
import type { Sha256, Sha256Kind } from "./_sha256.ts";
import { receiveWhole } from "./_whole_file.ts";

export interface IncomingFile {
  path: string;
  /** Final local path. */
  target: string;
  size: number;
  /** Bytes already in the partial and in `hash` (0: start a fresh partial). */
  offset: number;
  /** SHA-256 of the resumed prefix; none: a fresh one, made when the file's turn comes. */
  hash?: Sha256;
  mode: number;
  mtimeMs: number | null;
  /** A stream of unknown size: its bytes come in MORE chunks (`size` is 0). */
  unknownSize?: boolean;
  /** Inside a staging folder: written under its own name, published with the folder. */
  staged?: boolean;
}

/** Where a file's bytes wait until verified: its partial, or inside a staging folder itself. */
function partialOf(file: IncomingFile): string {
  return file.staged ? file.target : partialPath(file.target);
}

/** The block size assumed where the file system does not say (Windows). */
const FALLBACK_BLOCK_BYTES = 4096;

/** Where one file's bytes go: its partial on disk, or the caller's stream. */
export interface FileTarget {
  /** Writes `bytes`, which stay unchanged until it settles. */
  write(bytes: Uint8Array): Promise<void>;
  /** How many writes may be unsettled at once (default 1). */
  readonly writesInFlight?: number;
  /** The sender sends the file again from byte 0. */
  restart(): Promise<void>;
}

/** What arrived for one file. */
export interface ReceivedFile {
  sha256: string;
  size: number;
  /** A `FileStatus`: sent again after a change, or sent as read while changing. */
  status: number;
  resent: boolean;
}

export interface ReceiveDataOptions {
  readers: DataReader[];
  segmentSize: number;
  signal: AbortSignal;
  onBytes: (bytes: number, path: string) => void;
  /** The sender discards `discarded` bytes of the file and sends `size` bytes again. */
  onRestart: (path: string, discarded: number, size: number) => void;
  /** The sender said (HELLO) it sends files that keep changing as read: CHANGED is accepted. */
  allowChanging: boolean;
  /** Each file's SHA-256, chosen once for the transfer by the bytes it hashes (`sha256Kind`). */
  sha256: Sha256Kind;
}

/** Receives every file; returns what arrived by path. */
export async function receiveData(
  files: IncomingFile[],
  options: ReceiveDataOptions,
): Promise<Map<string, ReceivedFile>> {
  const segments = new SegmentReader(
    options.readers,
    options.segmentSize,
    PartialTarget.WRITES_IN_FLIGHT,
  );
  const received = new Map<string, ReceivedFile>();
  const publisher = new Publisher();
  const turns = new EventLoopTurns();
  // The file being written, and the sizes of files sent again at a new size: for a disk-full
  // message that says how much space the next run needs.
  let current = 0;
  const resized = new Map<string, number>();
  const counted: ReceiveDataOptions = {
    ...options,
    onRestart: (path, discarded, size) => {
      resized.set(path, size);
      options.onRestart(path, discarded, size);
    },
  };
  const diskFull = (error: unknown) =>
    asDiskFull(
      error,
      partialOf(files[current]),
      () => spaceStillNeeded(files.slice(current), resized),
    );
  const whole = {
    allowChanging: options.allowChanging,
    sha256Hex: options.sha256.hex,
  };
  let failed = true;
  try {
    for (const [index, file] of files.entries()) {
      current = index;
      options.signal.throwIfAborted();
      if (turns.due()) await nextTurn();
      const partial = partialOf(file);
      const small = receiveWhole(file, partial, segments, whole);
      if (small) {
        const { size, path, target } = file;
        received.set(path, { sha256: small.sha256, size, status: small.status, resent: false });
        options.onBytes(size, path);
        const room = publisher.queue({ partial, target, path, size });
        if (room) await room;
        continue;
      }
      const { result, verified } = await receiveIntoPartial(file, segments, counted);
      await publisher.add(verified);
      received.set(file.path, result);
      if (file.size === file.offset) options.onBytes(0, file.path);
    }
    await segments.finish();
    failed = false;
  } catch (error) {
    throw await diskFull(error);
  } finally {
    // Verified files are published even when a later one failed: the next run skips them.
    const drained = publisher.drain();
    if (failed) await drained.catch(() => {});
    else {await drained.catch(async (error) => {
        throw await diskFull(error);
      });}
  }
  return received;
}

/**
 * Opens a file's partial and receives the file into it. Wrong bytes from a live peer leave
 * nothing behind; a broken stream or our own failure keeps the partial for resume.
 */
async function receiveIntoPartial(
  file: IncomingFile,
  segments: SegmentReader,
  options: ReceiveDataOptions,
): Promise<{ result: ReceivedFile; verified: VerifiedPartial }> {
  const partial = partialOf(file);
  const { handle, modeSet } = openPartial(partial, file);
  const into = new PartialTarget(handle, partial, file.offset);
  let result: ReceivedFile;
  try {
    result = await receiveFile(into, file, segments, options);
    await into.settled();
  } catch (error) {
    await into.settled();
    handle.close();
    if (error instanceof IntegrityError) await Deno.remove(partial).catch(() => {});
    else if (error instanceof ProtocolError) await rollBack(partial, file.offset);
    throw error;
  }
  const { target, path, mode, mtimeMs } = file;
  const verified = { handle, partial, target, path, size: result.size, mode, modeSet, mtimeMs };
  return { result, verified };
}

/**
 * Writes one file's bytes into its open partial and checks its SHA-256. A
 * file the sender saw change while reading is truncated and comes again once,
 * from byte 0 with its new size.
 */
export async function receiveFile(
  target: FileTarget,
  file: IncomingFile,
  segments: SegmentReader,
  options: ReceiveDataOptions,
): Promise<ReceivedFile> {
  let size = file.size;
  let left = size - file.offset;
  let resent = false;
  let hash = file.hash ?? options.sha256.create();
  while (true) {
    await receiveBytes(target, file, { hash, left, segments, options });
    left = 0;
    const status = (await segments.readExact(1))[0];
    if (file.unknownSize && status === FileStatus.MORE) {
      const header = await segments.readExact(4);
      left = new DataView(header.buffer).getUint32(0);
      if (left === 0) {
        throw new ProtocolError(`Cannot decode data for ${file.path}: an empty MORE chunk`);
      }
      size += left;
      continue;
    }
    if (file.unknownSize && status !== FileStatus.AS_SCANNED) {
      throw new ProtocolError(
        `Cannot decode data for ${file.path}: status ${status} in a stream of unknown size`,
      );
    }
    if (status !== FileStatus.RESENT) {
      const changedAllowed = status === FileStatus.CHANGED && options.allowChanging;
      if (status !== FileStatus.AS_SCANNED && !changedAllowed) {
        throw new ProtocolError(`Cannot decode data for ${file.path}: unexpected status ${status}`);
      }
      const expected = await segments.readExact(DIGEST_BYTES);
      const actual = hash.digest();
      if (!equalBytes(actual, expected)) {
        throw new IntegrityError(
          `SHA-256 mismatch for ${file.path}: received ${toHex(actual)}, sender has ${
            toHex(expected)
          }`,
        );
      }
      return { sha256: toHex(actual), size, status, resent };
    }
    if (resent) {
      throw new ProtocolError(`Cannot decode data for ${file.path}: sent again a second time`);
    }
    resent = true;
    // Again at the size offered: the receiver never takes more than it accepted.
    options.onRestart(file.path, size - file.offset, size);
    await target.restart();
    hash = options.sha256.create();
    file.offset = 0;
    left = size;
  }
}

/**
 * Hashes and writes `left` bytes of `file`. Up to `writesInFlight` writes run
 * while the next chunks are taken and hashed (the segment reader keeps their
 * segments that long), so the disk, the hash and the sockets work at once:
 * awaiting every 1 MiB write first left the receiver waiting on the disk for
 * half of the transfer.
 */
async function receiveBytes(
  target: FileTarget,
  file: IncomingFile,
  { hash, left, segments, options }: {
    hash: Sha256;
    left: number;
    segments: SegmentReader;
    options: ReceiveDataOptions;
  },
): Promise<void> {
  const writing: Promise<void>[] = [];
  const inFlight = target.writesInFlight ?? 1;
  try {
    while (left > 0) {
      const chunk = await segments.next(left);
      hash.update(chunk);
      if (writing.length === inFlight) await writing.shift();
      const write = target.write(chunk);
      // Rejects while later chunks are awaited: handled by the awaits above or below.
      write.catch(() => {});
      writing.push(write);
      left -= chunk.length;
      options.onBytes(chunk.length, file.path);
    }
    for (const write of writing) await write;
  } finally {
    // On failure, no write may land after the caller rolled the partial back.
    await Promise.allSettled(writing);
  }
}

/** ENOSPC becomes a `DiskFullError` saying where and how much; any other error is unchanged. */
async function asDiskFull(
  error: unknown,
  partial: string,
  needed: () => Promise<number>,
): Promise<unknown> {
  if ((error as { code?: unknown })?.code !== "ENOSPC") return error;
  const folder = dirname(partial);
  const missingBytes = await needed();
  return new DiskFullError(
    `No space left in ${folder}: ${basename(partial)} keeps what arrived; ${
      formatBytesAtLeast(missingBytes)
    } more is needed`,
    { folder, partial, missingBytes },
    { cause: error },
  );
}

/**
 * The space a run resuming now needs: each file's bytes past what its partial
 * holds on disk (not what was handed to a write that failed), in whole blocks
 * of this file system, as a full disk counts them. `files[0]` is the one being
 * written; the later ones hold what they held when this run began.
 */
async function spaceStillNeeded(
  files: IncomingFile[],
  resized: Map<string, number>,
): Promise<number> {
  const [first, ...later] = files;
  const info = await Deno.stat(partialOf(first)).catch(() => null);
  const block = info?.blksize || FALLBACK_BLOCK_BYTES;
  const blocks = (bytes: number) => Math.ceil(bytes / block) * block;
  const need = (file: IncomingFile, held: number) =>
    Math.max(0, blocks(resized.get(file.path) ?? file.size) - blocks(held));
  return later.reduce((sum, file) => sum + need(file, file.offset), need(first, info?.size ?? 0));
}
