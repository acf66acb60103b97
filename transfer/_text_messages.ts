/** TEXT frame payload (a text offer, PROTOCOL.md): strict UTF-8, at most 64 KiB. */
import { ProtocolError } from "../errors.ts";
import { LIMITS } from "./_frame.ts";

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** TEXT payload: the UTF-8 text, at most `LIMITS.maxTextBytes`. */
export function encodeText(text: string): Uint8Array {
  const bytes = utf8.encode(text);
  if (bytes.length > LIMITS.maxTextBytes) {
    throw new RangeError(
      `Cannot send the text: it is ${bytes.length} bytes, limit ${LIMITS.maxTextBytes}`,
    );
  }
  return bytes;
}

export function decodeText(payload: Uint8Array): string {
  try {
    return strictUtf8.decode(payload);
  } catch (error) {
    throw new ProtocolError("Cannot decode TEXT: it is not valid UTF-8", { cause: error });
  }
}
