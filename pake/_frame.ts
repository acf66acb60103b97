/**
 * PAKE handshake frames (see PROTOCOL.md):
 *
 *   version u8 (= 1) | type u8 | length u16 big-endian | payload (length bytes)
 *
 * Pure encode/decode; the header is checked before a payload is allocated.
 *
 * @module
 */
import { ProtocolError } from "../base/mod.ts";
import { SPAKE2_MAC_LENGTH, SPAKE2_MESSAGE_LENGTH } from "./spake2.ts";

import { PAKE_VERSION } from "./version_mod.ts";

export { PAKE_VERSION };
/** Bytes of the frame header. */
export const FRAME_HEADER_LENGTH = 4;
/** Largest payload a decoder accepts, checked before allocating. */
export const MAX_FRAME_PAYLOAD = 256;

/** Frame types. */
export const FrameType = {
  /** The SPAKE2 share: pA from the receiver, pB from the sender. */
  Share: 0x01,
  /** The key-confirmation MAC: cA from the receiver, cB from the sender. */
  Confirm: 0x02,
} as const;
export type FrameType = typeof FrameType[keyof typeof FrameType];

/** A decoded frame. */
export interface Frame {
  type: FrameType;
  payload: Uint8Array;
}

const PAYLOAD_LENGTH: Record<FrameType, number> = {
  [FrameType.Share]: SPAKE2_MESSAGE_LENGTH,
  [FrameType.Confirm]: SPAKE2_MAC_LENGTH,
};

/** Human name of a frame type, for messages. */
export function frameTypeName(type: number): string {
  if (type === FrameType.Share) return "SHARE";
  if (type === FrameType.Confirm) return "CONFIRM";
  return `0x${type.toString(16).padStart(2, "0")}`;
}

/** Encodes one frame. Throws a RangeError if the payload is not the type's size. */
export function encodeFrame(type: FrameType, payload: Uint8Array): Uint8Array {
  const expected = PAYLOAD_LENGTH[type];
  if (expected === undefined) {
    throw new RangeError(`Cannot encode PAKE frame: unknown type ${type}`);
  }
  if (payload.length !== expected) {
    throw new RangeError(
      `Cannot encode PAKE ${
        frameTypeName(type)
      } frame: payload is ${payload.length} bytes, not ${expected}`,
    );
  }
  const frame = new Uint8Array(FRAME_HEADER_LENGTH + payload.length);
  frame[0] = PAKE_VERSION;
  frame[1] = type;
  frame[2] = payload.length >> 8;
  frame[3] = payload.length & 0xff;
  frame.set(payload, FRAME_HEADER_LENGTH);
  return frame;
}

/**
 * Validates a 4-byte header and returns the payload length to read. Rejects,
 * with a ProtocolError, a wrong version, an unknown or unexpected type, a
 * length above {@link MAX_FRAME_PAYLOAD}, and a length the type does not have.
 */
export function decodeFrameHeader(header: Uint8Array, expectedType?: FrameType): {
  type: FrameType;
  length: number;
} {
  if (header.length !== FRAME_HEADER_LENGTH) {
    throw new ProtocolError(
      `Cannot decode PAKE frame header: ${header.length} bytes instead of ${FRAME_HEADER_LENGTH}`,
    );
  }
  const version = header[0];
  if (version !== PAKE_VERSION) {
    throw new ProtocolError(
      `Cannot decode PAKE frame: version ${version} is not supported (expected ${PAKE_VERSION})`,
    );
  }
  const type = header[1];
  const length = (header[2] << 8) | header[3];
  if (length > MAX_FRAME_PAYLOAD) {
    throw new ProtocolError(
      `Cannot decode PAKE frame: length ${length} exceeds limit of ${MAX_FRAME_PAYLOAD} bytes`,
    );
  }
  if (type !== FrameType.Share && type !== FrameType.Confirm) {
    throw new ProtocolError(`Cannot decode PAKE frame: unknown type ${frameTypeName(type)}`);
  }
  if (expectedType !== undefined && type !== expectedType) {
    throw new ProtocolError(
      `Cannot decode PAKE frame: got ${frameTypeName(type)}, expected ${
        frameTypeName(expectedType)
      }`,
    );
  }
  if (length !== PAYLOAD_LENGTH[type]) {
    throw new ProtocolError(
      `Cannot decode PAKE ${frameTypeName(type)} frame: length ${length} is not ${
        PAYLOAD_LENGTH[type]
      } bytes`,
    );
  }
  return { type, length };
}

/** Decodes exactly one whole frame from `bytes` (no bytes may follow). */
export function decodeFrame(bytes: Uint8Array, expectedType?: FrameType): Frame {
  if (bytes.length < FRAME_HEADER_LENGTH) {
    throw new ProtocolError(
      `Cannot decode PAKE frame: ${bytes.length} bytes is shorter than the ${FRAME_HEADER_LENGTH}-byte header`,
    );
  }
  const { type, length } = decodeFrameHeader(bytes.subarray(0, FRAME_HEADER_LENGTH), expectedType);
  const total = FRAME_HEADER_LENGTH + length;
  if (bytes.length !== total) {
    throw new ProtocolError(
      `Cannot decode PAKE ${frameTypeName(type)} frame: ${bytes.length} bytes, expected ${total}`,
    );
  }
  return { type, payload: bytes.slice(FRAME_HEADER_LENGTH) };
}
