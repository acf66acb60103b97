/**
 * Sender hot path: the logical data stream (remaining bytes of each file, then
 * its 32-byte SHA-256) cut into DATA segments, segment k on stream k mod N.
 */
import type { Hash } from "node:crypto";
import { IntegrityError } from "../errors.ts";
import { encodeFrame, FRAME_HEADER_BYTES, FrameType, writeFrameHeader } from "./_frame.ts";
import { encodeDataHello } from "./_messages.ts";
import { raceSignal } from "./_control.ts";
import type { StreamConnection } from "./types.ts";

export interface OutgoingFile {
  path: string;
  source: string;
  size: number;
  /** First byte to send (resume point). */
  offset: number;
  /** SHA-256 state, already fed with bytes [0, offset). */
  hash: Hash;
  /** Set once the file was sent: its SHA-256. */
  digest?: Uint8Array;
}

export interface SendDataOptions {
  connection: StreamConnection;
  streams: number;
  segmentSize: number;
  signal: AbortSignal;
  /** Called with the number of file bytes just read and the file. */
  onBytes: (bytes: number, path: string) => void;
  /** Called on a failed write: stops the transfer. */
  fail: (error: unknown) => void;
}

/**
 * Opens the data streams and sends every file; resolves when all streams are
 * closed. After a failure the streams are left as they are: ending one would
 * look like a finished stream to the peer (Deno's QUIC streams send FIN even
 * on abort), and the session's end tears them down.
 */
export async function sendData(files: OutgoingFile[], options: SendDataOptions): Promise<void> {
  const { segmentSize, signal } = options;
  const writers: WritableStreamDefaultWriter<Uint8Array>[] = [];
  for (let index = 0; index < options.streams; index++) {
    const stream = await raceSignal(options.connection.openStream(), signal);
    stream.readable.cancel().catch(() => {});
    const writer = stream.writable.getWriter();
    writers.push(writer);
    writer.write(encodeFrame(FrameType.DATA_HELLO, encodeDataHello(index, options.streams)))
      .catch(options.fail);
  }
  let segment = new Uint8Array(FRAME_HEADER_BYTES + segmentSize);
  let fill = 0;
  let count = 0;
  const emit = async () => {
    writeFrameHeader(segment, FrameType.DATA, fill);
    const writer = writers[count % writers.length];
    count++;
    await raceSignal(writer.ready, signal);
    writer.write(segment.subarray(0, FRAME_HEADER_BYTES + fill)).catch(options.fail);
    segment = new Uint8Array(FRAME_HEADER_BYTES + segmentSize);
    fill = 0;
  };
  for (const file of files) {
    signal.throwIfAborted();
    let left = file.size - file.offset;
    if (left > 0) {
      using handle = await Deno.open(file.source, { read: true });
      if (file.offset > 0) await handle.seek(file.offset, Deno.SeekMode.Start);
      while (left > 0) {
        signal.throwIfAborted();
        const start = FRAME_HEADER_BYTES + fill;
        const view = segment.subarray(start, start + Math.min(left, segmentSize - fill));
        const n = await handle.read(view);
        if (n === null) {
          throw new IntegrityError(
            `Cannot send ${file.path}: the file shrank while being sent (${
              file.size - left
            } of ${file.size} bytes)`,
          );
        }
        file.hash.update(view.subarray(0, n));
        fill += n;
        left -= n;
        options.onBytes(n, file.path);
        if (fill === segmentSize) await emit();
      }
    } else {
      options.onBytes(0, file.path);
    }
    const digest = file.hash.digest();
    file.digest = digest;
    let copied = 0;
    while (copied < digest.length) {
      const take = Math.min(digest.length - copied, segmentSize - fill);
      segment.set(digest.subarray(copied, copied + take), FRAME_HEADER_BYTES + fill);
      fill += take;
      copied += take;
      if (fill === segmentSize) await emit();
    }
  }
  if (fill > 0) await emit();
  await raceSignal(Promise.all(writers.map((writer) => writer.close())), signal);
}
