/** Byte helpers shared by every layer of p2pft (like errors.ts). */

/** Equal length and contents; the time taken does not depend on where they differ. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

const HEX_OF_BYTE = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));
const HEX_DIGITS = [..."0123456789abcdef"].map((digit) => digit.charCodeAt(0));
/** Reused for short inputs (ids, tokens, hashes), which become map keys. */
const hexCodes: number[] = [];

/** Lowercase hex of a byte array. */
export function toHex(bytes: Uint8Array): string {
  if (bytes.length > 64) {
    let out = "";
    for (let i = 0; i < bytes.length; i++) out += HEX_OF_BYTE[bytes[i]];
    return out;
  }
  // From char codes at once: a flat string, where appending makes a rope of parts that
  // costs several times its length while it is kept as a key.
  hexCodes.length = 2 * bytes.length;
  for (let i = 0; i < bytes.length; i++) {
    hexCodes[2 * i] = HEX_DIGITS[bytes[i] >> 4];
    hexCodes[2 * i + 1] = HEX_DIGITS[bytes[i] & 15];
  }
  return String.fromCharCode.apply(null, hexCodes);
}

/** Bytes of a lowercase hex string (as {@link toHex} writes it). */
export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) {
    const high = nibble(hex.charCodeAt(2 * i));
    const low = nibble(hex.charCodeAt(2 * i + 1));
    // From char codes: room keys turn back into ids on every answer. Anything but
    // hex digits takes parseInt's reading, as it always has.
    out[i] = high >= 0 && low >= 0 ? (high << 4) | low : parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

/** The value of one hex digit's char code, or -1. */
function nibble(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** One array holding `parts` one after another (a part may be a plain array of bytes). */
export function concatBytes(parts: ReadonlyArray<ArrayLike<number>>): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Bytes of `text` in UTF-8 (a lone surrogate counts as U+FFFD's 3, as
 * TextEncoder writes it), without encoding it: a path checked per manifest
 * entry cost a call into the runtime each, 1.4 s for 200,000 entries.
 */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) {
      bytes += 1;
      continue;
    }
    // 3 bytes for one unit; a surrogate pair is 4 for its two units.
    bytes += 2;
    const next = text.charCodeAt(i + 1);
    if (code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
  }
  return bytes;
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** A size for people (every layer's messages): "700 B", "1.5 KiB", "64.0 MiB", by 1024. */
export function formatBytes(bytes: number): string {
  return scaled(bytes, (value) => value.toFixed(1));
}

/**
 * Like `formatBytes`, never below `bytes` ("free 26.8 MiB" for 26.74 MiB):
 * for an amount the user must provide, where rounding down would fall short.
 */
export function formatBytesAtLeast(bytes: number): string {
  return scaled(bytes, (value) => (Math.ceil(value * 10 - 1e-9) / 10).toFixed(1));
}

function scaled(bytes: number, fraction: (value: number) => string): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${fraction(value)} ${UNITS[unit]}`;
}
