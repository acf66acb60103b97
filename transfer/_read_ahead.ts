/**
 * Sender: a big file's bytes read straight into the DATA segments they go in, several reads at
 * once, each at its own offset through a handle of its own (_send_data.ts sends the rest).
 */
import type { SegmentWriter } from "./_segment_writer.ts";
import type { Hashing, SendDataOptions } from "./_send_data.ts";

/** Reads in flight at once: the current segment's and those of the segments after it. */
const READS_IN_FLIGHT = 3;

/** One read in flight: the view it fills, the handle it uses, and whether the file ended in it. */
interface Piece {
  view: Uint8Array;
  reader: Deno.FsFile;
  ended: Promise<boolean>;
}

/**
 * Sends the next `left` bytes of `file` (open as `handle`, at its offset),
 * read straight into the segments: up to `READS_IN_FLIGHT` reads run on the
 * thread pool, each into the segment its bytes go in, while the bytes before
 * them are hashed and their full segments wait for their streams. One read at
 * a time, the next started once the last one's result reached the main thread,
 * left the relayed sender waiting on reads 1.7-1.9 s per GiB (its reads take
 * ~0.3 ms in the kernel); reading into buffers of its own cost a copy of every
 * byte into the segment. Returns whether the file ended early (the rest went
 * as zeros).
 */
export async function sendReadAhead(
  handle: Deno.FsFile,
  file: Hashing,
  left: number,
  out: SegmentWriter,
  options: SendDataOptions,
): Promise<boolean> {
  // One read per segment the bytes go in: a file that ends in this segment needs no other handle.
  const segmentsAfter = Math.ceil(Math.max(0, left - out.room().length) / out.segmentSize);
  const extra = Math.min(READS_IN_FLIGHT - 1, segmentsAfter);
  const readers = [handle, ...extraHandles(handle, file.source, extra)];
  const pieces: Piece[] = [];
  let offset = handle.seekSync(0, Deno.SeekMode.Current);
  let unread = left;
  let count = 0;
  // Piece i fills `out.room(i)`: every piece but the last fills its segment's room whole.
  const schedule = () => {
    while (pieces.length < readers.length && unread > 0) {
      const room = out.room(pieces.length);
      const view = room.subarray(0, Math.min(room.length, unread));
      const reader = readers[count++ % readers.length];
      const ended = fill(reader, offset, view, readers.length > 1);
      // Awaited in order below, or in `finally` when the loop ends early.
      ended.catch(() => {});
      pieces.push({ view, reader, ended });
      offset += view.length;
      unread -= view.length;
    }
  };
  let ended = false;
  try {
    schedule();
    while (pieces.length > 0) {
      options.signal.throwIfAborted();
      const piece = pieces[0];
      ended = (await piece.ended) || ended;
      pieces.shift();
      // A full segment is handed on here; the reads after it already fill the next ones.
      const sending = out.filled(piece.view.length);
      schedule();
      file.hash.update(piece.view);
      options.onBytes(piece.view.length, file.path);
      await sending;
    }
    return ended;
  } finally {
    // The handles close after this: no read may still be running on them.
    await Promise.allSettled(pieces.map((piece) => piece.ended));
    for (const reader of readers.slice(1)) reader.close();
  }
}

/**
 * Fills `view` from `reader` at `offset` (`seek`: the handle is shared in turns, so it is put
 * there first); past the file's end the rest is zeros, and true says so.
 */
async function fill(
  reader: Deno.FsFile,
  offset: number,
  view: Uint8Array,
  seek: boolean,
): Promise<boolean> {
  if (seek) reader.seekSync(offset, Deno.SeekMode.Start);
  for (let filled = 0; filled < view.length;) {
    const n = await reader.read(view.subarray(filled));
    if (n === null) {
      view.fill(0, filled);
      return true;
    }
    filled += n;
  }
  return false;
}

/**
 * `count` more handles on the file `handle` has open, for reads at once. None when the name now
 * leads to another file (replaced since it was opened): then `handle` alone reads what was offered.
 */
function extraHandles(handle: Deno.FsFile, source: string, count: number): Deno.FsFile[] {
  if (count === 0) return [];
  const { dev, ino } = handle.statSync();
  const extra: Deno.FsFile[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const other = Deno.openSync(source, { read: true });
      extra.push(other);
      const info = other.statSync();
      if (info.dev !== dev || info.ino !== ino) throw new Deno.errors.NotFound(source);
    }
  } catch {
    for (const other of extra) other.close();
    return [];
  }
  return extra;
}
