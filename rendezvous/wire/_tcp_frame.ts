/**
 * Rendezvous messages over TCP: each message is `length u16 BE | message`,
 * the message being the very bytes of a UDP datagram (see ../PROTOCOL.md).
 * The reader takes exactly one frame from the stream and never more, so the
 * bytes after a TCP relay handshake stay in the socket for the splice.
 */
import { ConnectionLostError, fillFrom, ProtocolError, type ReadsInto } from "../../base/mod.ts";
import { MAX_DATAGRAM_SIZE } from "./_wire.ts";

export const FRAME_HEADER_SIZE = 2;

/**
 * Prefixes one message with its length.
 * @throws {RangeError} when the message is empty or longer than a datagram may be.
 */
export function encodeFrame(message: Uint8Array): Uint8Array {
  if (message.length === 0 || message.length > MAX_DATAGRAM_SIZE) {
    throw new RangeError(
      `Cannot frame a message of ${message.length} bytes: expected 1 to ${MAX_DATAGRAM_SIZE}`,
    );
  }
  const out = new Uint8Array(FRAME_HEADER_SIZE + message.length);
  out[0] = message.length >>> 8;
  out[1] = message.length & 0xff;
  out.set(message, FRAME_HEADER_SIZE);
  return out;
}

export interface ReadFrameOptions {
  /** Names the other end in error messages, e.g. `rendezvous server 10.0.0.1:9000`. */
  peer: string;
  /** Called once the first byte of the frame has arrived (a server arms its read deadline). */
  onStart?: () => void;
}

/**
 * Reads one frame. Resolves with its message, or null when the stream ends
 * cleanly before the frame starts. Checks the length before allocating.
 * @throws {ProtocolError} for a length of 0 or over 1200 bytes.
 * @throws {ConnectionLostError} when the stream ends inside a frame or fails.
 */
export async function readFrame(
  reader: ReadsInto,
  options: ReadFrameOptions,
): Promise<Uint8Array | null> {
  const header = new Uint8Array(FRAME_HEADER_SIZE);
  if (!(await readFramePart(reader, header, options, options.onStart))) return null;
  const length = (header[0] << 8) | header[1];
  if (length === 0 || length > MAX_DATAGRAM_SIZE) {
    throw new ProtocolError(
      `Cannot read frame from ${options.peer}: length ${length} is outside 1 to ${MAX_DATAGRAM_SIZE} bytes`,
    );
  }
  const message = new Uint8Array(length);
  if (!(await readFramePart(reader, message, options))) throw closedInside(options, 0, length);
  return message;
}

/** Fills `buffer`; false when the stream ended before its first byte. */
async function readFramePart(
  reader: ReadsInto,
  buffer: Uint8Array,
  options: ReadFrameOptions,
  onFirstByte?: () => void,
): Promise<boolean> {
  let filled: number;
  try {
    filled = await fillFrom(reader, buffer, { onFirstByte });
  } catch (error) {
    throw new ConnectionLostError(
      `The TCP connection to ${options.peer} failed: ${
        error instanceof Error ? error.message : String(error)
      }`,
      { cause: error },
    );
  }
  if (filled === 0 && buffer.length > 0) return false;
  if (filled < buffer.length) throw closedInside(options, filled, buffer.length);
  return true;
}

function closedInside(options: ReadFrameOptions, filled: number, length: number): Error {
  return new ConnectionLostError(
    `The TCP connection to ${options.peer} closed inside a frame (${filled} of ${length} bytes read)`,
  );
}
