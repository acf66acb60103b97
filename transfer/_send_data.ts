/**
 * Sender hot path: the logical data stream (each file's remaining bytes, a
 * status byte, its 32-byte SHA-256; a file that changed while read comes again
 * once), read from the files and handed to the SegmentWriter, which cuts it
 * into DATA segments (_segment_writer.ts).
 */
import {
  abortable,
  EventLoopTurns,
  fromHex,
  nextTurn,
  SourceChangedError,
  toHex,
} from "../base/mod.ts";
import {
  encodeFileTrailer,
  encodeFrame,
  encodeResent,
  FILE_TRAILER_BYTES,
  FileStatus,
  FrameType,
} from "./wire/mod.ts";
import { type FileSnapshot, sameSnapshot, snapshotOf, wrapFsError } from "./scan_paths.ts";
import type { StreamConnection } from "./types.ts";
import { SegmentWriter } from "./_segment_writer.ts";
import { sendStream } from "./_send_stream.ts";
import { sendReadAhead } from "./_read_ahead.ts";
import { bytesToHash, type Sha256, type Sha256Kind, sha256Kind } from "./_sha256.ts";

export interface OutgoingFile {
  path: string;
  source: string;
  size: number;
  /** First byte to send (resume point). */
  offset: number;
  /**
   * SHA-256 state, already fed with bytes [0, offset) of a resumed file; none:
   * a fresh one, made when the file's turn comes (not 200,000 at once).
   */
  hash?: Sha256;
  /** How the file looked when it was scanned. */
  snapshot: FileSnapshot;
  /** The bytes of a file of unknown size (sent in MORE chunks instead of reading `source`). */
  stream?: ReadableStream<Uint8Array>;
  /** A file whose size is known only once read (`source` is read to its end, in MORE chunks). */
  unknownSize?: boolean;
}

/** What was sent of one file: its SHA-256, the size that was sent, and how it went. */
export interface SentFile {
  /** Its SHA-256 in hex: a string in the heap, where a Buffer per file held memory outside it. */
  sha256: string;
  size: number;
  /** A `FileStatus`: as scanned, or sent as read while it changed. */
  status: number;
  /** Sent again from byte 0 after it changed while read. */
  resent: boolean;
}

export interface SendDataOptions {
  connection: StreamConnection;
  /**
   * The control stream when the data goes there (START inline): no data stream; `first` (the
   * DECISIONS and START frames) leaves in one write with the first segment.
   */
  inline?: { writer: WritableStreamDefaultWriter<Uint8Array>; first: Uint8Array };
  streams: number;
  segmentSize: number;
  signal: AbortSignal;
  /** Send a file that keeps changing as it is read, marked as such, instead of failing. */
  allowChanging: boolean;
  /** Called with the number of file bytes just read and the file. */
  onBytes: (bytes: number, path: string) => void;
  /** Called when a changed file is sent again: `discarded` bytes were sent for nothing. */
  onRestart: (path: string, discarded: number, size: number) => void;
  /** Called on a failed write: stops the transfer. */
  fail: (error: unknown) => void;
}

/**
 * Opens the data streams and sends every file; resolves, with what was sent by
 * path, when all streams are closed. After a failure the streams are left as they are: ending one would
 * look like a finished stream to the peer (Deno's QUIC streams send FIN even
 * on abort), and the session's end tears them down.
 */
export async function sendData(
  files: OutgoingFile[],
  options: SendDataOptions,
): Promise<Map<string, SentFile>> {
  const { signal } = options;
  const inline = options.inline;
  const writers = inline ? [inline.writer] : await openDataStreams(options);
  const out = new SegmentWriter({ ...options, first: inline && [inline.first] }, writers);
  const reading: Reading = { turns: new EventLoopTurns() };
  const sent = new Map<string, SentFile>();
  const sha256 = await sha256Kind(bytesToHash(files));
  // Whole files' bytes are told to onBytes once per turn of the event loop, not per file.
  const told = { bytes: 0, path: "" };
  const tell = () => {
    if (told.path !== "") options.onBytes(told.bytes, told.path);
    told.bytes = 0;
    told.path = "";
  };
  for (const outgoing of files) {
    signal.throwIfAborted();
    if (fitsWhole(outgoing, out)) {
      if (reading.turns.due()) {
        tell();
        await nextTurn();
      }
      const whole = sendWhole(outgoing, out, sha256);
      if (whole) {
        sent.set(outgoing.path, whole);
        told.bytes += whole.size;
        told.path = outgoing.path;
        continue;
      }
    }
    tell();
    const hash = outgoing.hash ?? sha256.create();
    const file = Object.assign(outgoing, { hash });
    if (file.stream || file.unknownSize) {
      const stream = file.stream ?? openOffered(file).readable;
      sent.set(file.path, await sendStream(file, stream, out, options));
      continue;
    }
    sent.set(file.path, await sendFile(file, out, { ...options, sha256, reading }));
  }
  tell();
  if (inline) {
    // The control stream goes on (DONE comes back on it): an empty DATA frame ends the data,
    // in the same write as the last segment (and its last file's SHA-256).
    await out.flush(encodeFrame(FrameType.DATA, new Uint8Array(0)));
    return sent;
  }
  await out.flush();
  out.helloRest();
  await abortable(Promise.all(writers.map((writer) => writer.close())), signal);
  return sent;
}

/**
 * Sends a file of known size that did not go whole (`sendWhole`): any size, resumed from its
 * offset, or changed since the scan (sent again once, or as read when allowed).
 */
async function sendFile(
  file: Hashing,
  out: SegmentWriter,
  options: SendDataOptions & { sha256: Sha256Kind; reading: Reading },
): Promise<SentFile> {
  const { reading } = options;
  const range = { from: file.offset, to: file.size, baseline: file.snapshot };
  let changed = await sendBytes(file, range, out, options, reading);
  const size = file.size;
  // The receiver accepted this size: a file of another size now is never sent
  // again (it would be more than accepted); one changed in place is, once.
  const resent = changed.changed && (changed.now.size === size || !options.allowChanging);
  if (resent) {
    if (changed.now.size !== size) throw sizeChanged(file, changed.now.size);
    options.onRestart(file.path, size - file.offset, size);
    await out.write(encodeResent());
    file.hash = options.sha256.create();
    changed = await sendBytes(
      file,
      { from: 0, to: size, baseline: changed.now },
      out,
      options,
      reading,
    );
    if (changed.changed && !options.allowChanging) {
      throw changed.now.size === size
        ? new SourceChangedError(
          `Cannot send ${file.path}: it changed while being read, twice; nothing was published under its name`,
        )
        : sizeChanged(file, changed.now.size);
    }
  }
  const status = changed.changed ? FileStatus.CHANGED : FileStatus.AS_SCANNED;
  const digest = file.hash.digest();
  await out.write(encodeFileTrailer(status, digest));
  return { sha256: toHex(digest), size, status, resent };
}

/**
 * Opened all at once: over the TLS link each stream is a connection of its own, and their
 * handshakes overlap instead of adding up; over QUIC they take turns on the lanes.
 */
async function openDataStreams(
  options: SendDataOptions,
): Promise<WritableStreamDefaultWriter<Uint8Array>[]> {
  const opening = Array.from(
    { length: options.streams },
    () => options.connection.openStream({ data: true }),
  );
  const streams = await abortable(Promise.all(opening), options.signal);
  return streams.map((stream) => {
    stream.readable.cancel().catch(() => {});
    return stream.writable.getWriter();
  });
}

function sizeChanged(file: OutgoingFile, now: number): SourceChangedError {
  return new SourceChangedError(
    `Cannot send ${file.path}: its size changed from ${file.size} to ${now} bytes after it was offered, and the receiver accepted ${file.size}; nothing was published under its name`,
  );
}

/**
 * Opens a file that was offered: one gone or unreadable since says so by its offered name
 * (the receiver is told too), not by the absolute path in Deno's message.
 */
function openOffered(file: OutgoingFile): Deno.FsFile {
  try {
    return Deno.openSync(file.source, { read: true });
  } catch (error) {
    throw wrapFsError(error, "send", `${file.path} after offering it`);
  }
}

/** Whether `file` goes whole, with its trailer, into what is left of the current segment. */
function fitsWhole(file: OutgoingFile, out: SegmentWriter): boolean {
  return file.offset === 0 && !file.hash && !file.stream && !file.unknownSize &&
    file.size + FILE_TRAILER_BYTES < out.room().length;
}

/**
 * Sends a file that fits whole in the current segment (`fitsWhole`) with sync calls and no
 * await: for a tree of small files the general path's promises, objects and trailer arrays per
 * file cost more than its system calls. Its stat after the read is compared with the scan's, so
 * every change since is seen. A file that changed is not sent here (undefined, and nothing of it
 * is in the segment): the general path sends it and says so.
 */
function sendWhole(
  file: OutgoingFile,
  out: SegmentWriter,
  sha256: Sha256Kind,
): SentFile | undefined {
  const size = file.size;
  const room = out.room();
  {
    using handle = openOffered(file);
    for (let got = 0; got < size;) {
      const n = handle.readSync(room.subarray(got, size));
      if (n === null) return undefined;
      got += n;
    }
    if (!sameSnapshot(file.snapshot, snapshotOf(handle.statSync()))) return undefined;
  }
  const hex = sha256.hex(room.subarray(0, size));
  room.set(encodeFileTrailer(FileStatus.AS_SCANNED, fromHex(hex)), size);
  out.fillWithin(size + FILE_TRAILER_BYTES);
  return { sha256: hex, size, status: FileStatus.AS_SCANNED, resent: false };
}

/** Files with fewer bytes left are read with sync calls (see `sendBytes`). */
const SYNC_READ_BYTES = 256 * 1024;
/** A file whose turn came: it has its SHA-256 state. */
export type Hashing = OutgoingFile & { hash: Sha256 };

/** What reading keeps from one file to the next. */
interface Reading {
  turns: EventLoopTurns;
}

/**
 * Sends bytes [from, to) of `file` into its hash and the data stream: never
 * more, so the receiver gets no more than it accepted. A file that ends early
 * is padded with zeros so the stream keeps its announced length; either way
 * the file counts as changed, as it does when its size, times or inode differ
 * from `baseline` (the scan) or between before and after the read. A big
 * file whose size already differs from `to` when opened fails before any byte
 * of it moves, unless changing files are allowed.
 */
async function sendBytes(
  file: Hashing,
  range: { from: number; to: number; baseline?: FileSnapshot },
  out: SegmentWriter,
  options: SendDataOptions,
  reading: Reading,
): Promise<{ changed: boolean; now: FileSnapshot }> {
  // Open, stat and (below SYNC_READ_BYTES) read are sync calls: for a tree of
  // small files a promise and a thread hop per call cost more than the calls.
  // Every few milliseconds the event loop gets a turn first.
  await reading.turns.turn();
  using handle = openOffered(file);
  const length = range.to - range.from;
  const small = length < SYNC_READ_BYTES;
  // A big file is looked at before it is read, so one whose size changed fails before any of
  // its bytes move. A small one only after: its read is one call, and comparing the stat
  // after it with the scan sees every change since (one stat per file fewer for a tree).
  const before = small && range.baseline ? range.baseline : snapshotOf(handle.statSync());
  if (before.size !== file.size && !options.allowChanging) throw sizeChanged(file, before.size);
  let changed = range.baseline !== undefined && !sameSnapshot(before, range.baseline);
  if (range.from > 0) handle.seekSync(range.from, Deno.SeekMode.Start);
  const send = small ? sendRead : sendReadAhead;
  changed = (await send(handle, file, length, out, options)) || changed;
  if (range.to === range.from) options.onBytes(0, file.path);
  const after = snapshotOf(handle.statSync());
  return {
    changed: changed || !sameSnapshot(before, after) || after.size !== file.size,
    now: after,
  };
}

/**
 * One way to send the next `left` bytes of an open file into the segments,
 * hashing them; resolves whether the file ended early (the rest went as zeros).
 */
type SendFileBytes = (
  handle: Deno.FsFile,
  file: Hashing,
  left: number,
  out: SegmentWriter,
  options: SendDataOptions,
) => Promise<boolean>;

/** Sends `left` bytes of a small file, read with sync calls straight into the segment. */
const sendRead: SendFileBytes = async (handle, file, left, out, options) => {
  let ended = false;
  while (left > 0) {
    options.signal.throwIfAborted();
    const room = out.room();
    const view = room.subarray(0, Math.min(left, room.length));
    let n = ended ? null : handle.readSync(view);
    if (n === null) {
      ended = true;
      view.fill(0);
      n = view.length;
    }
    file.hash.update(view.subarray(0, n));
    left -= n;
    options.onBytes(n, file.path);
    await out.filled(n);
  }
  return ended;
};
