/** TEXT frame payload (a text offer, PROTOCOL.md): strict UTF-8, at most 64 KiB; the report of a text. */
import { ProtocolError, toHex } from "../base/mod.ts";
import { LIMITS } from "./wire/mod.ts";
import type { TransferReport } from "./types.ts";

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

/** What either side reports once a text was confirmed: `bytes` are its UTF-8, `digest` their SHA-256. */
export function textReport(
  text: string,
  bytes: Uint8Array,
  digest: Uint8Array,
  startedMs: number,
): TransferReport {
  return {
    files: 0,
    directories: 0,
    totalBytes: bytes.length,
    bytesTransferred: bytes.length,
    sha256: toHex(digest),
    seconds: (performance.now() - startedMs) / 1000,
    resumedFiles: 0,
    skippedFiles: 0,
    resent: [],
    changed: [],
    notWritten: [],
    text,
  };
}
