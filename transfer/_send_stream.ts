/**
 * Sender: a file of unknown size (stdin, a pseudo-file), read to its end and sent in MORE
 * chunks (PROTOCOL.md, "The data stream"), apart from the files of known size in _send_data.ts.
 */
import { toHex } from "../base/mod.ts";
import { encodeFileTrailer, encodeMore, FileStatus } from "./wire/mod.ts";
import type { SegmentWriter } from "./_segment_writer.ts";
import type { Hashing, SendDataOptions, SentFile } from "./_send_data.ts";

/** Sends a stream of unknown size: each chunk as MORE + length + bytes, then its SHA-256. */
export async function sendStream(
  file: Hashing,
  stream: ReadableStream<Uint8Array>,
  out: SegmentWriter,
  options: SendDataOptions,
): Promise<SentFile> {
  const reader = stream.getReader();
  const onAbort = () => reader.cancel(options.signal.reason).catch(() => {});
  options.signal.addEventListener("abort", onAbort, { once: true });
  let size = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      options.signal.throwIfAborted();
      if (done) break;
      if (value.length === 0) continue;
      await out.write(encodeMore(value.length));
      file.hash.update(value);
      await out.write(value);
      size += value.length;
      options.onBytes(value.length, file.path);
    }
  } finally {
    options.signal.removeEventListener("abort", onAbort);
    reader.releaseLock();
  }
  const digest = file.hash.digest();
  await out.write(encodeFileTrailer(FileStatus.AS_SCANNED, digest));
  return { sha256: toHex(digest), size, status: FileStatus.AS_SCANNED, resent: false };
}
