import { ByteReader } from "../byte_reader.ts";
import { ConnectionLostError } from "../errors.ts";

/**
 * A reader over one of the transfer's QUIC streams: a stream that breaks is a
 * ConnectionLostError, kept apart from junk so a partial file stays for resume.
 */
export function streamReader(
  readable: ReadableStream<Uint8Array>,
  what: string,
  signal: AbortSignal | undefined,
): ByteReader {
  return new ByteReader(readable, { what, signal, failure: ConnectionLostError });
}
