import { ByteReader, ConnectionLostError } from "../base/mod.ts";
import type { ByteStream } from "./types.ts";

/**
 * A reader over one of the transfer's streams: a stream that breaks is a
 * ConnectionLostError, kept apart from junk so a partial file stays for resume.
 */
export function streamReader(
  readable: ReadableStream<Uint8Array>,
  what: string,
  signal: AbortSignal | undefined,
): ByteReader {
  return new ByteReader(readable, { what, signal, failure: ConnectionLostError });
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
