/**
 * Fewer, bigger pieces: encoded items grouped into payloads of a size limit,
 * and frames that leave back to back grouped into few writes.
 */
import { concatBytes, EventLoopTurns } from "../../base/mod.ts";

/** `items` encoded and concatenated into pieces of at most `limit` bytes (one item may exceed it). */
export function* batch<T>(items: Iterable<T>, encode: (item: T) => Uint8Array, limit: number) {
  let parts: Uint8Array[] = [];
  let size = 0;
  for (const item of items) {
    const bytes = encode(item);
    if (size + bytes.length > limit && parts.length > 0) {
      yield concatBytes(parts);
      parts = [];
      size = 0;
    }
    parts.push(bytes);
    size += bytes.length;
  }
  if (parts.length > 0) yield concatBytes(parts);
}

/** Bytes one `writeFrames` write carries at most. */
const WRITE_BATCH_BYTES = 256 * 1024;

/**
 * Writes frames that leave back to back in as few writes as fit: on a TCP
 * connection with Nagle's algorithm on (the sender's TLS connections, which
 * Deno 2.9.6 gives no setNoDelay), a small write behind one the peer has not
 * acknowledged yet waits for the peer's delayed ACK, about 40 ms on Linux.
 * A write may resolve without a turn of the event loop (the stream buffers
 * it): the offer of 200,000 entries was encoded and queued for seconds with
 * no keep-alive sent, so the event loop gets a turn every few milliseconds.
 */
export async function writeFrames(
  writer: WritableStreamDefaultWriter<Uint8Array>,
  frames: Iterable<Uint8Array>,
): Promise<void> {
  const turns = new EventLoopTurns();
  for (const bytes of batch(frames, (frame) => frame, WRITE_BATCH_BYTES)) {
    await writer.write(bytes);
    await turns.turn();
  }
}
