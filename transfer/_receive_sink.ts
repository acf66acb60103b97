/** Receiver: the one file of an offer into a stream (stdout) instead of a partial on disk. */
import { abortable, SourceChangedError } from "../base/mod.ts";
import {
  type FileTarget,
  type IncomingFile,
  type ReceiveDataOptions,
  type ReceivedFile,
  receiveFile,
} from "./_receive_data.ts";
import { SegmentReader } from "./_segment_reader.ts";

/**
 * Receives the one file of the offer into `sink`. Its bytes are out before
 * they are verified: a failed SHA-256 is an `IntegrityError` at the end, and
 * a file the sender has to send again cannot be taken back.
 */
export async function receiveIntoSink(
  files: IncomingFile[],
  sink: WritableStream<Uint8Array>,
  options: ReceiveDataOptions,
): Promise<Map<string, ReceivedFile>> {
  const segments = new SegmentReader(options.readers, options.segmentSize);
  const received = new Map<string, ReceivedFile>();
  const writer = sink.getWriter();
  try {
    for (const file of files) {
      const target: FileTarget = {
        write: (bytes) => abortable(writer.write(bytes), options.signal),
        restart: () => {
          throw new SourceChangedError(
            `Cannot receive ${file.path} into a stream: it changed while the sender read it, and what was already written cannot be taken back`,
          );
        },
      };
      received.set(file.path, await receiveFile(target, file, segments, options));
    }
    await segments.finish();
  } finally {
    writer.releaseLock();
  }
  return received;
}
