/**
 * The end message (peer/PROTOCOL.md, "Ending a session"): the one place a
 * side says why the session ended. Pure encode/decode.
 */
import { ProtocolError } from "../../base/mod.ts";
import type { LinkEnd } from "./link.ts";

/** Reason bytes carried at most; longer reasons are cut at a character boundary. */
export const MAX_END_REASON_BYTES = 200;
/** Code byte plus the longest reason. */
export const MAX_END_MESSAGE_BYTES = 1 + MAX_END_REASON_BYTES;

const END_DONE = 0;
const END_FAILED = 1;

/** `code u8 (0 done, 1 failed) | reason UTF-8 (≤ 200 bytes)`. */
export function encodeLinkEnd(end: LinkEnd): Uint8Array {
  const reason = truncateUtf8(end.message, MAX_END_REASON_BYTES);
  const out = new Uint8Array(1 + reason.length);
  out[0] = end.failed ? END_FAILED : END_DONE;
  out.set(reason, 1);
  return out;
}

export function decodeLinkEnd(bytes: Uint8Array): LinkEnd {
  if (bytes.length < 1 || bytes.length > MAX_END_MESSAGE_BYTES) {
    throw new ProtocolError(
      `Cannot decode the end message: ${bytes.length} bytes, expected 1 to ${MAX_END_MESSAGE_BYTES}`,
    );
  }
  if (bytes[0] !== END_DONE && bytes[0] !== END_FAILED) {
    throw new ProtocolError(`Cannot decode the end message: unknown code ${bytes[0]}`);
  }
  let message: string;
  try {
    message = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(1));
  } catch (error) {
    throw new ProtocolError("Cannot decode the end message: the reason is not UTF-8", {
      cause: error,
    });
  }
  return { failed: bytes[0] === END_FAILED, message };
}

/** `text` as UTF-8, cut to `max` bytes without splitting a character ("..." marks a cut). */
export function truncateUtf8(text: string, max: number): Uint8Array {
  const encoder = new TextEncoder();
  const bytes = encoder.encode(text);
  if (bytes.length <= max) return bytes;
  let cut = max - 3;
  // Back up to the start of a character: continuation bytes are 0b10xxxxxx.
  while (cut > 0 && (bytes[cut] & 0xc0) === 0x80) cut--;
  const out = new Uint8Array(cut + 3);
  out.set(bytes.subarray(0, cut));
  out.set(encoder.encode("..."), cut);
  return out;
}
