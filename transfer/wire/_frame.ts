import { type ByteReader, ProtocolError } from "../../base/mod.ts";

export { PROTOCOL_VERSION, SPOKEN_VERSION } from "../version_mod.ts";
/** type u8 + payload length u32 (big-endian). */
export const FRAME_HEADER_BYTES = 5;
/** Bytes of one SHA-256 digest. */
export const DIGEST_BYTES = 32;

/** Frame types. Unknown types are a ProtocolError. */
export const FrameType = {
  HELLO: 0x01,
  ENTRIES: 0x02,
  MANIFEST_END: 0x03,
  TEXT: 0x04,
  SKIPPED: 0x05,
  PLAN: 0x10,
  PLAN_END: 0x11,
  DECISIONS: 0x12,
  START: 0x13,
  ASKING: 0x14,
  DATA_HELLO: 0x20,
  DATA: 0x21,
  DONE: 0x30,
  ERROR: 0x7f,
} as const;
export type FrameTypeValue = typeof FrameType[keyof typeof FrameType];

/** Most data streams a transfer may stripe over (HELLO and START carry 1..16). */
export const MAX_STREAMS = 16;

/** Limits every decoder enforces before allocating. */
export const LIMITS = {
  maxEntries: 1_000_000,
  maxPathBytes: 4096,
  maxSegmentBytes: 255,
  maxManifestBytes: 64 * 1024 * 1024,
  maxBatchFrameBytes: 1024 * 1024,
  maxErrorMessageBytes: 4096,
  maxStreams: MAX_STREAMS,
  minSegmentSize: 16 * 1024,
  maxSegmentSize: 16 * 1024 * 1024,
  maxTextBytes: 64 * 1024,
} as const;

const MAX_PAYLOAD: Record<number, number> = {
  [FrameType.HELLO]: 256,
  [FrameType.ENTRIES]: LIMITS.maxBatchFrameBytes,
  [FrameType.MANIFEST_END]: 64,
  [FrameType.TEXT]: LIMITS.maxTextBytes,
  [FrameType.SKIPPED]: LIMITS.maxBatchFrameBytes,
  [FrameType.PLAN]: LIMITS.maxBatchFrameBytes,
  [FrameType.PLAN_END]: 64,
  [FrameType.DECISIONS]: LIMITS.maxBatchFrameBytes,
  [FrameType.START]: 64,
  [FrameType.ASKING]: 64,
  [FrameType.DATA_HELLO]: 64,
  [FrameType.DATA]: LIMITS.maxSegmentSize,
  [FrameType.DONE]: 256,
  [FrameType.ERROR]: 1 + LIMITS.maxErrorMessageBytes,
};

const TYPE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(FrameType).map(([name, value]) => [value, name]),
);

/** Human-readable frame type, for messages. */
export function frameTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `0x${type.toString(16).padStart(2, "0")}`;
}

export interface Frame {
  type: FrameTypeValue;
  payload: Uint8Array;
}

/** Encodes one frame (header + payload) into a fresh buffer. */
export function encodeFrame(type: FrameTypeValue, payload: Uint8Array): Uint8Array {
  const max = MAX_PAYLOAD[type];
  if (max === undefined) throw new TypeError(`Cannot encode frame: unknown type ${type}`);
  if (payload.length > max) {
    throw new RangeError(
      `Cannot encode ${
        frameTypeName(type)
      } frame: payload ${payload.length} exceeds limit of ${max} bytes`,
    );
  }
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  writeFrameHeader(out, type, payload.length);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/** Writes a frame header into the first 5 bytes of `target`. */
export function writeFrameHeader(target: Uint8Array, type: number, length: number): void {
  target[0] = type;
  new DataView(target.buffer, target.byteOffset, FRAME_HEADER_BYTES).setUint32(1, length);
}

/**
 * Checks a 5-byte header against the known types, the expected types and
 * their limits; returns type and payload length. Pure: nothing is allocated.
 */
export function parseFrameHeader(
  header: Uint8Array,
  options: { expect: readonly number[]; what: string; maxPayload?: number },
): { type: FrameTypeValue; length: number } {
  if (header.length !== FRAME_HEADER_BYTES) {
    throw new ProtocolError(
      `Cannot decode ${options.what} frame header: ${header.length} bytes, expected ${FRAME_HEADER_BYTES}`,
    );
  }
  const type = header[0];
  const length = new DataView(header.buffer, header.byteOffset, FRAME_HEADER_BYTES).getUint32(1);
  const known = MAX_PAYLOAD[type];
  if (known === undefined) {
    throw new ProtocolError(
      `Cannot decode ${options.what}: unknown frame type ${frameTypeName(type)}`,
    );
  }
  if (!options.expect.includes(type)) {
    throw new ProtocolError(
      `Cannot decode ${options.what}: unexpected ${frameTypeName(type)} frame, expected ${
        options.expect.map(frameTypeName).join(" or ")
      }`,
    );
  }
  const max = Math.min(known, options.maxPayload ?? known);
  if (length > max) {
    throw new ProtocolError(
      `Cannot decode ${options.what} ${
        frameTypeName(type)
      } frame: length ${length} exceeds limit of ${max} bytes`,
    );
  }
  return { type: type as FrameTypeValue, length };
}

/** Reads one whole frame; the length is checked before the payload is allocated. */
export async function readFrame(
  reader: Pick<ByteReader, "readExact">,
  options: { expect: readonly number[]; what: string; maxPayload?: number },
): Promise<Frame> {
  const header = await reader.readExact(FRAME_HEADER_BYTES);
  const { type, length } = parseFrameHeader(header, options);
  const payload = length === 0 ? new Uint8Array(0) : await reader.readExact(length);
  return { type, payload };
}
