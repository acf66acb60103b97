import { ByteReader, ConnectionLostError } from "../base/mod.ts";
import type { ByteStream } from "./types.ts";

/**
 * A reader over the control stream: a stream that breaks, or ends while a frame is awaited, is a
 * ConnectionLostError, kept apart from junk so a partial file stays for resume, and so the peer's
 * own reason for ending the session (Ctrl-C at its prompt closes the stream first) is asked for.
 */
export function streamReader(
  readable: ReadableStream<Uint8Array>,
  what: string,
  signal: AbortSignal | undefined,
): ByteReader {
  return new ByteReader(readable, {
    what,
    signal,
    failure: ConnectionLostError,
    ended: ConnectionLostError,
  });
}

/** What a data stream is read through: the segment reader's and `readFrame`'s calls. */
export type DataReader = Pick<ByteReader, "atEnd" | "readExact" | "readInto" | "cancel">;

/**
 * A data stream's reader: its segments go from the socket straight into the
 * receiver's segment buffers, with no chunk allocated and copied per read. A
 * stream that reads in place (a TLS connection) is read so, with no stream
 * machinery per read; any other is read `exact` through its readable.
 */
export function dataReader(stream: ByteStream, signal: AbortSignal | undefined): DataReader {
  const what = "data stream";
  const source = stream.readInto
    ? { read: stream.readInto, cancel: (reason?: unknown) => stream.readable.cancel(reason) }
    : stream.readable;
  return new ByteReader(source, { what, signal, failure: ConnectionLostError, exact: true });
}
