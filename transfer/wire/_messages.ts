/**
 * Payload encoders and pure decoders for every frame type (byte layouts in
 * ../PROTOCOL.md). Decoders throw only `ProtocolError`; fixed-layout messages
 * ignore trailing bytes (room for future fields), batched ones do not.
 */
import { ProtocolError } from "../../base/mod.ts";
import { DIGEST_BYTES, LIMITS, PROTOCOL_VERSION, SPOKEN_VERSION } from "./_frame.ts";

export interface Hello {
  version: number;
  /** The newest version the sender speaks (byte 3; 0 from a version 4 sender). */
  speaks: number;
  /** The offer is a text (a TEXT frame follows HELLO), not files. */
  text: boolean;
  /** The sender sends a file that keeps changing as read (CHANGED status) instead of failing. */
  allowChanging: boolean;
  streams: number;
  segmentSize: number;
  entries: number;
  files: number;
  directories: number;
  /** Symbolic links (entries = files + directories + links). */
  links: number;
  totalBytes: number;
}
export interface ManifestEntry {
  kind: "file" | "directory" | "symlink";
  /** Relative POSIX path. */
  path: string;
  /** File size in bytes (0 for directories; a symlink's target length in bytes). */
  size: number;
  /** A symlink's target: relative, inside the sent tree (`checkLinkTarget`). */
  target?: string;
  /** Permission bits (`mode & 0o7777`). */
  mode: number;
  /** Modification time in ms since the epoch, or null when unknown. */
  mtimeMs: number | null;
  /** A stream whose size is not known in advance (`size` is 0): its bytes come in MORE chunks. */
  unknownSize?: boolean;
}
export interface PlanItem {
  index: number;
  /**
   * `unholdable`: this file system cannot hold the name; `kept`: another entry
   * of that name exists and the receiver keeps it. Either way the file is not
   * sent (length 0).
   */
  kind: "exists" | "partial" | "unholdable" | "kept";
  length: number;
  sha256: Uint8Array;
}
export interface Decision {
  index: number;
  /** `keep`: the receiver has a different file of this name and keeps it; not sent. */
  action: "send" | "resume" | "skip" | "keep";
}
export interface Start {
  /** Version 5: the data comes on the control stream, after START (`streams` is 0). */
  inline?: boolean;
  streams: number;
  decisions: number;
  dataBytes: number;
}
export interface DataHello {
  version: number;
  index: number;
  count: number;
}
export interface Done {
  files: number;
  digest: Uint8Array;
}
export const ErrorCode = {
  PROTOCOL: 1,
  INTEGRITY: 2,
  REFUSED: 3,
  UNSAFE_PATH: 4,
  CANCELLED: 5,
  FAILED: 6,
} as const;
export interface ErrorMessage {
  code: number;
  message: string;
}

const HELLO_BYTES = 32;
const HELLO_FLAG_TEXT = 1;
const HELLO_FLAG_ALLOW_CHANGING = 2;
const START_FLAG_INLINE = 1;
const MAX_U64_HI = 0x1f_ffff; // keeps values <= Number.MAX_SAFE_INTEGER

const utf8 = new TextEncoder();

export function need(payload: Uint8Array, bytes: number, what: string): DataView {
  if (payload.length < bytes) {
    throw new ProtocolError(
      `Cannot decode ${what}: ${payload.length} bytes, expected at least ${bytes}`,
    );
  }
  return new DataView(payload.buffer, payload.byteOffset, payload.length);
}

export function getU64(view: DataView, offset: number, what: string): number {
  const hi = view.getUint32(offset);
  if (hi > MAX_U64_HI) throw new ProtocolError(`Cannot decode ${what}: value exceeds 2^53-1`);
  return hi * 2 ** 32 + view.getUint32(offset + 4);
}

export function setU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, Math.floor(value / 2 ** 32));
  view.setUint32(offset + 4, value >>> 0);
}

export function encodeHello(
  hello: Omit<Hello, "version" | "speaks" | "text" | "allowChanging" | "links"> & {
    text?: boolean;
    allowChanging?: boolean;
    links?: number;
  },
): Uint8Array {
  const out = new Uint8Array(HELLO_BYTES);
  const view = new DataView(out.buffer);
  view.setUint8(0, PROTOCOL_VERSION);
  view.setUint8(1, hello.streams);
  view.setUint8(
    2,
    (hello.text ? HELLO_FLAG_TEXT : 0) | (hello.allowChanging ? HELLO_FLAG_ALLOW_CHANGING : 0),
  );
  view.setUint8(3, SPOKEN_VERSION);
  view.setUint32(4, hello.segmentSize);
  view.setUint32(8, hello.entries);
  view.setUint32(12, hello.files);
  view.setUint32(16, hello.directories);
  setU64(view, 20, hello.totalBytes);
  view.setUint32(28, hello.links ?? 0);
  return out;
}

export function decodeHello(payload: Uint8Array): Hello {
  if (payload.length >= 1 && payload[0] !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      `Cannot decode HELLO: unsupported version ${
        payload[0]
      }, this peer speaks ${PROTOCOL_VERSION}`,
    );
  }
  const view = need(payload, HELLO_BYTES, "HELLO");
  const flags = view.getUint8(2);
  if ((flags & ~(HELLO_FLAG_TEXT | HELLO_FLAG_ALLOW_CHANGING)) !== 0) {
    throw new ProtocolError(`Cannot decode HELLO: unknown flags 0x${flags.toString(16)}`);
  }
  const hello: Hello = {
    version: view.getUint8(0),
    speaks: view.getUint8(3),
    text: (flags & HELLO_FLAG_TEXT) !== 0,
    allowChanging: (flags & HELLO_FLAG_ALLOW_CHANGING) !== 0,
    streams: view.getUint8(1),
    segmentSize: view.getUint32(4),
    entries: view.getUint32(8),
    files: view.getUint32(12),
    directories: view.getUint32(16),
    totalBytes: getU64(view, 20, "HELLO total bytes"),
    links: view.getUint32(28),
  };
  if (hello.streams < 1 || hello.streams > LIMITS.maxStreams) {
    throw new ProtocolError(
      `Cannot decode HELLO: ${hello.streams} streams, limit 1..${LIMITS.maxStreams}`,
    );
  }
  if (hello.segmentSize < LIMITS.minSegmentSize || hello.segmentSize > LIMITS.maxSegmentSize) {
    throw new ProtocolError(
      `Cannot decode HELLO: segment size ${hello.segmentSize} outside ${LIMITS.minSegmentSize}..${LIMITS.maxSegmentSize}`,
    );
  }
  if (
    hello.entries > LIMITS.maxEntries ||
    hello.files + hello.directories + hello.links !== hello.entries
  ) {
    throw new ProtocolError(
      `Cannot decode HELLO: ${hello.entries} entries (${hello.files} files + ${hello.directories} directories + ${hello.links} links), limit ${LIMITS.maxEntries}`,
    );
  }
  if (hello.text && hello.entries !== 0) {
    throw new ProtocolError(`Cannot decode HELLO: a text offer with ${hello.entries} entries`);
  }
  if (hello.text && hello.totalBytes > LIMITS.maxTextBytes) {
    throw new ProtocolError(
      `Cannot decode HELLO: a text of ${hello.totalBytes} bytes, limit ${LIMITS.maxTextBytes}`,
    );
  }
  return hello;
}

/** A u32 count (MANIFEST_END, PLAN_END). */
export function encodeCount(count: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, count);
  return out;
}

export function decodeCount(payload: Uint8Array, what: string): number {
  return need(payload, 4, what).getUint32(0);
}

export function encodeStart(start: Start): Uint8Array {
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  view.setUint8(0, start.streams);
  view.setUint8(1, start.inline ? START_FLAG_INLINE : 0);
  view.setUint32(4, start.decisions);
  setU64(view, 8, start.dataBytes);
  return out;
}

export function decodeStart(payload: Uint8Array): Start {
  const view = need(payload, 16, "START");
  const start = {
    inline: (view.getUint8(1) & START_FLAG_INLINE) !== 0,
    streams: view.getUint8(0),
    decisions: view.getUint32(4),
    dataBytes: getU64(view, 8, "START data bytes"),
  };
  // Inline data (version 5) comes on the control stream: no data stream, and some bytes.
  const streamsNeeded = start.inline ? 0 : start.dataBytes;
  if (
    start.streams > LIMITS.maxStreams || (start.streams === 0) !== (streamsNeeded === 0) ||
    (start.inline && start.dataBytes === 0)
  ) {
    throw new ProtocolError(
      `Cannot decode START: ${start.streams} streams for ${start.dataBytes} bytes`,
    );
  }
  return start;
}

export function encodeDataHello(index: number, count: number): Uint8Array {
  return Uint8Array.of(PROTOCOL_VERSION, index, count);
}

export function decodeDataHello(payload: Uint8Array): DataHello {
  const view = need(payload, 3, "DATA_HELLO");
  const hello = { version: view.getUint8(0), index: view.getUint8(1), count: view.getUint8(2) };
  if (hello.version !== PROTOCOL_VERSION) {
    throw new ProtocolError(`Cannot decode DATA_HELLO: unsupported version ${hello.version}`);
  }
  if (hello.count < 1 || hello.count > LIMITS.maxStreams || hello.index >= hello.count) {
    throw new ProtocolError(`Cannot decode DATA_HELLO: stream ${hello.index} of ${hello.count}`);
  }
  return hello;
}

export function encodeDone(done: Done): Uint8Array {
  const out = new Uint8Array(4 + DIGEST_BYTES);
  new DataView(out.buffer).setUint32(0, done.files);
  out.set(done.digest, 4);
  return out;
}

export function decodeDone(payload: Uint8Array): Done {
  const view = need(payload, 4 + DIGEST_BYTES, "DONE");
  return { files: view.getUint32(0), digest: payload.slice(4, 4 + DIGEST_BYTES) };
}

/** ERROR payload: code u8 + UTF-8 message, cut to the limit on a character boundary. */
export function encodeError(error: ErrorMessage): Uint8Array {
  let message = utf8.encode(error.message);
  if (message.length > LIMITS.maxErrorMessageBytes) {
    message = utf8.encode(
      new TextDecoder().decode(message.subarray(0, LIMITS.maxErrorMessageBytes - 4)).replace(
        /\uFFFD$/,
        "",
      ),
    );
  }
  const out = new Uint8Array(1 + message.length);
  out[0] = error.code;
  out.set(message, 1);
  return out;
}

export function decodeError(payload: Uint8Array): ErrorMessage {
  need(payload, 1, "ERROR");
  // Lenient on purpose: the message is shown to the user, never interpreted.
  const message = new TextDecoder().decode(payload.subarray(1)).replace(
    // deno-lint-ignore no-control-regex
    /[\u0000-\u001f\u007f]/g,
    "?",
  );
  return { code: payload[0], message };
}
