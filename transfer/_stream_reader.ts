import { ByteReader, ConnectionLostError } from "../base/mod.ts";

/**
 * A reader over one of the transfer's streams: a stream that breaks is a
 * ConnectionLostError, kept apart from junk so a partial file stays for resume.
 * A data stream is read `exact`: its segments go from the socket straight into
 * the receiver's segment buffers, with no chunk allocated and copied per read.
 */
export function streamReader(
  readable: ReadableStream<Uint8Array>,
  what: string,
  signal: AbortSignal | undefined,
  exact = false,
): ByteReader {
  return new ByteReader(readable, { what, signal, failure: ConnectionLostError, exact });
}
