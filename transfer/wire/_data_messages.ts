/** What follows each file's bytes in the logical data stream (../PROTOCOL.md, "The data stream"). */
import { DIGEST_BYTES } from "./_frame.ts";

/** The byte after a file's bytes in the data stream (../PROTOCOL.md, "The data stream"). */
export const FileStatus = {
  /** Read as scanned: SHA-256 follows. */
  AS_SCANNED: 0,
  /** Changed while read: discard it; the whole file follows again, at the size offered. */
  RESENT: 1,
  /** Changed while read, sent as read because the sender allows it (HELLO flag): SHA-256 follows. */
  CHANGED: 2,
  /** Of a stream of unknown size: a u32 length n (≥ 1), n bytes, then another status. */
  MORE: 3,
} as const;
/** Status byte and SHA-256 after each file's bytes. */
export const FILE_TRAILER_BYTES = 1 + DIGEST_BYTES;

/** In the data stream after a changed file's bytes: RESENT (its bytes come again, same size). */
export function encodeResent(): Uint8Array {
  return Uint8Array.of(FileStatus.RESENT);
}

/** In the data stream of a stream of unknown size: MORE and the length of the chunk that follows. */
export function encodeMore(length: number): Uint8Array {
  const out = new Uint8Array(5);
  out[0] = FileStatus.MORE;
  new DataView(out.buffer).setUint32(1, length);
  return out;
}

/** In the data stream after a file's bytes: its status (AS_SCANNED or CHANGED) and SHA-256. */
export function encodeFileTrailer(status: number, digest: Uint8Array): Uint8Array {
  const out = new Uint8Array(FILE_TRAILER_BYTES);
  out[0] = status;
  out.set(digest, 1);
  return out;
}
