/**
 * The receiver's way for a small file (most files of a tree): when its whole record, bytes and
 * trailer, lies in the segment at hand, it is hashed with one call, checked against its trailer,
 * and written with one call that creates it with its mode, then given its mtime. No promise, no
 * open handle, and a file whose hash does not match is never created. Per file of a tree that is
 * two calls into Deno where opening, writing, setting the time and closing a partial took four,
 * and none of the general path's awaits (`_receive_data.ts`), which takes everything else: a file
 * spanning segments, a resumed one, one sent again, a stream of unknown size.
 */
import { IntegrityError, toHex } from "../base/mod.ts";
import { defaultFileMode } from "./_partial_file.ts";
import type { SegmentReader } from "./_segment_reader.ts";
import { FILE_TRAILER_BYTES, FileStatus } from "./wire/mod.ts";

/** What the whole-file way needs of a file (`IncomingFile`) and of the transfer. */
export interface WholeFile {
  path: string;
  size: number;
  offset: number;
  hash?: unknown;
  unknownSize?: boolean;
  mode: number;
  mtimeMs: number | null;
}

/**
 * Receives `file` into `partial` when its record is whole in the current segment and it was
 * read as scanned (or changed while read, where allowed); returns its status and hex SHA-256,
 * or null, having consumed nothing, for the general path to take it.
 */
export function receiveWhole(
  file: WholeFile,
  partial: string,
  segments: SegmentReader,
  options: { allowChanging: boolean; sha256Hex: (data: Uint8Array) => string },
): { status: number; sha256: string } | null {
  if (file.offset !== 0 || file.hash !== undefined || file.unknownSize) return null;
  const record = segments.peek(file.size + FILE_TRAILER_BYTES);
  if (record === null) return null;
  const status = record[file.size];
  const changed = status === FileStatus.CHANGED && options.allowChanging;
  if (status !== FileStatus.AS_SCANNED && !changed) return null;
  const bytes = record.subarray(0, file.size);
  const sha256 = options.sha256Hex(bytes);
  const expected = toHex(record.subarray(file.size + 1));
  if (sha256 !== expected) {
    throw new IntegrityError(
      `SHA-256 mismatch for ${file.path}: received ${sha256}, sender has ${expected}`,
    );
  }
  writeWhole(partial, bytes, file);
  segments.skip(record.length);
  return { status, sha256 };
}

/**
 * Creates `path` with `bytes` and the file's mode, and gives it its mtime. A mode is set exactly
 * (Deno's writeFile changes the mode of the open file, whatever the umask), which costs a call:
 * not asked for when the file's mode is the one the umask gives (0o644 under umask 022, most
 * files of a tree). A partial left by an earlier run, sent again from 0, is cut and written over.
 */
function writeWhole(path: string, bytes: Uint8Array, file: WholeFile): void {
  const mode = file.mode & 0o777;
  try {
    Deno.writeFileSync(
      path,
      bytes,
      mode === defaultFileMode() ? { createNew: true } : { createNew: true, mode },
    );
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    Deno.writeFileSync(path, bytes, { mode });
  }
  if (file.mtimeMs !== null) Deno.utimeSync(path, new Date(), new Date(file.mtimeMs));
}
