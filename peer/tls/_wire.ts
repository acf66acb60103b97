/**
 * The TLS link's own bytes (PROTOCOL.md): the preamble every TCP
 * connection starts with inside TLS, and the small frames of the control
 * connection. Pure: encode and decode only.
 */
import { ProtocolError } from "../../base/mod.ts";
import { TLS_LINK_VERSION } from "../version_mod.ts";

export { TLS_LINK_VERSION };

const MAGIC = [0x50, 0x32, 0x54, 0x4c]; // "P2TL"
export const SECRET_LENGTH = 32;
export const PREAMBLE_LENGTH = 4 + 1 + 1 + SECRET_LENGTH + 4;
export const CONTROL_HEADER_LENGTH = 3;
/** Largest control payload: CLOSE with a 200-byte reason. */
export const MAX_CONTROL_PAYLOAD = 1 + 200;
const MAX_REASON_BYTES = 200;
export const MAX_FIRST_STREAMS = 5;

/**
 * A family of ALPN protocols `<prefix>k` by which the TLS server (the sender) says k
 * (`least`..`MAX_FIRST_STREAMS`), the streams it opens first: `name(k)`, `all` (the client offers
 * every one), and `firstStreamsOf` the picked protocol (undefined for another one or none).
 */
function firstStreamsAlpns(prefix: string, least = 1) {
  const name = (firstStreams: number): string => {
    if (
      !Number.isInteger(firstStreams) || firstStreams < least || firstStreams > MAX_FIRST_STREAMS
    ) {
      throw new RangeError(
        `First streams must be ${least}..${MAX_FIRST_STREAMS}, got ${firstStreams}`,
      );
    }
    return `${prefix}${firstStreams}`;
  };
  const all = Array.from(
    { length: MAX_FIRST_STREAMS - least + 1 },
    (_, index) => name(least + index),
  );
  const firstStreamsOf = (alpn: string | null): number | undefined => {
    const index = alpn === null ? -1 : all.indexOf(alpn);
    return index < 0 ? undefined : least + index;
  };
  return { name, all, firstStreamsOf };
}

/**
 * A LAN sender whose server does not Nagle (PROTOCOL.md, "Few connections for a small
 * transfer"): `p2pft-tls-nodelay/k`, the streams it opens first, which the receiver dials at once;
 * it announces any later one with OPEN. `p2pft-tls-nodelay/0`: it opens none first, and the
 * link's first stream (the receiver's 1, the PAKE's) is also the one it would open first (the
 * transfer's control stream). The receiver offers all of them; a sender that serves with
 * `Deno.listenTls`, or an older one, picks none; an older receiver does not offer `/0`.
 */
const noDelay = firstStreamsAlpns("p2pft-tls-nodelay/", 0);
export const noDelayAlpn = noDelay.name;
export const NO_DELAY_ALPNS = noDelay.all;
export const firstStreamsOf = noDelay.firstStreamsOf;

/**
 * What a Nagle-free sender that opens `firstStreams` first accepts, its preference first (the
 * server's order decides): one stream, the transfer's control stream, is the link's first one
 * with a receiver that offers `/0`, else `/1`.
 */
export function noDelayServerAlpns(firstStreams: number): string[] {
  return firstStreams === 1 ? [noDelayAlpn(0), noDelayAlpn(1)] : [noDelayAlpn(firstStreams)];
}

/**
 * The relay's control connection (PROTOCOL.md, "Relay"): `p2pft-relay/k`, the streams the sender
 * opens first, whose channels both sides dial at once, unannounced; the receiver's stream 1 (the
 * PAKE's), made by both beside the control connection, is then unannounced too. The receiver
 * offers all of them; an older sender picks none, and both announce every stream with OPEN.
 */
const relay = firstStreamsAlpns("p2pft-relay/");
export const relayAlpn = relay.name;
export const RELAY_ALPNS = relay.all;
export const relayFirstStreamsOf = relay.firstStreamsOf;

/** Stream ids stay below 2^31 so they fit every integer type on both ends. */
export const MAX_STREAM_ID = 0x7fff_ffff;

export type ConnectionKind = "control" | "stream";

/** First bytes of every connection, written by the TLS client (the receiver). */
export interface Preamble {
  kind: ConnectionKind;
  secret: Uint8Array;
  /** 0 on the control connection. */
  streamId: number;
}

export type ControlMessage =
  | { type: "ready" }
  | { type: "open"; streamId: number }
  | { type: "close"; failed: boolean; message: string }
  | { type: "ping" };

const TYPE_CODES = { ready: 1, open: 2, close: 3, ping: 4 } as const;

export function encodePreamble(preamble: Preamble): Uint8Array {
  if (preamble.secret.length !== SECRET_LENGTH) {
    throw new RangeError(
      `Link secret must be ${SECRET_LENGTH} bytes, got ${preamble.secret.length}`,
    );
  }
  checkStreamId(preamble.streamId);
  const out = new Uint8Array(PREAMBLE_LENGTH);
  out.set(MAGIC, 0);
  out[4] = TLS_LINK_VERSION;
  out[5] = preamble.kind === "control" ? 0 : 1;
  out.set(preamble.secret, 6);
  new DataView(out.buffer).setUint32(6 + SECRET_LENGTH, preamble.streamId);
  return out;
}

export function decodePreamble(bytes: Uint8Array): Preamble {
  if (bytes.length !== PREAMBLE_LENGTH) {
    throw new ProtocolError(
      `Cannot decode TLS link preamble: length ${bytes.length}, expected ${PREAMBLE_LENGTH}`,
    );
  }
  if (MAGIC.some((byte, i) => bytes[i] !== byte)) {
    throw new ProtocolError("Cannot decode TLS link preamble: magic is not P2TL");
  }
  if (bytes[4] !== TLS_LINK_VERSION) {
    throw new ProtocolError(
      `Cannot decode TLS link preamble: version ${bytes[4]}, expected ${TLS_LINK_VERSION}`,
    );
  }
  if (bytes[5] > 1) {
    throw new ProtocolError(`Cannot decode TLS link preamble: unknown kind ${bytes[5]}`);
  }
  const kind = bytes[5] === 0 ? "control" : "stream";
  const streamId = new DataView(bytes.buffer, bytes.byteOffset).getUint32(6 + SECRET_LENGTH);
  if (streamId > MAX_STREAM_ID || (kind === "control" && streamId !== 0)) {
    throw new ProtocolError(`Cannot decode TLS link preamble: bad ${kind} stream id ${streamId}`);
  }
  return { kind, secret: bytes.slice(6, 6 + SECRET_LENGTH), streamId };
}

export function encodeControl(message: ControlMessage): Uint8Array {
  let payload = new Uint8Array(0);
  if (message.type === "open") {
    checkStreamId(message.streamId);
    payload = new Uint8Array(4);
    new DataView(payload.buffer).setUint32(0, message.streamId);
  } else if (message.type === "close") {
    const reason = truncateUtf8(message.message);
    payload = new Uint8Array(1 + reason.length);
    payload[0] = message.failed ? 1 : 0;
    payload.set(reason, 1);
  }
  const out = new Uint8Array(CONTROL_HEADER_LENGTH + payload.length);
  out[0] = TYPE_CODES[message.type];
  new DataView(out.buffer).setUint16(1, payload.length);
  out.set(payload, CONTROL_HEADER_LENGTH);
  return out;
}

/** Payload length announced by a control header; checked against the limit before reading on. */
export function decodeControlHeader(header: Uint8Array): { code: number; length: number } {
  const length = (header[1] << 8) | header[2];
  if (length > MAX_CONTROL_PAYLOAD) {
    throw new ProtocolError(
      `Cannot decode TLS control frame of type ${
        header[0]
      }: length ${length} exceeds limit of ${MAX_CONTROL_PAYLOAD} bytes`,
    );
  }
  return { code: header[0], length };
}

/** Decodes one control frame's payload; bytes past the known fields of READY, OPEN and PING are ignored. */
export function decodeControl(code: number, payload: Uint8Array): ControlMessage {
  switch (code) {
    case TYPE_CODES.ready:
      return { type: "ready" };
    case TYPE_CODES.ping:
      return { type: "ping" };
    case TYPE_CODES.open: {
      if (payload.length < 4) {
        throw new ProtocolError(`Cannot decode TLS OPEN: payload of ${payload.length} bytes`);
      }
      const streamId = new DataView(payload.buffer, payload.byteOffset).getUint32(0);
      if (streamId > MAX_STREAM_ID) {
        throw new ProtocolError(`Cannot decode TLS OPEN: stream id ${streamId} out of range`);
      }
      return { type: "open", streamId };
    }
    case TYPE_CODES.close: {
      if (payload.length < 1 || payload[0] > 1) {
        throw new ProtocolError(`Cannot decode TLS CLOSE: bad failed flag`);
      }
      return {
        type: "close",
        failed: payload[0] === 1,
        message: new TextDecoder().decode(payload.subarray(1)),
      };
    }
    default:
      throw new ProtocolError(`Cannot decode TLS control frame: unknown type ${code}`);
  }
}

function checkStreamId(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > MAX_STREAM_ID) {
    throw new RangeError(`Stream id must be an integer in 0..${MAX_STREAM_ID}, got ${id}`);
  }
}

const PREFACE_MAGIC = [0x50, 0x32, 0x54, 0x43]; // "P2TC"
/** Certificate preface header: magic, version, DER length (u16 BE). */
export const CERTIFICATE_PREFACE_HEADER = 4 + 1 + 2;
/** Our P-256 certificates are about 340 bytes; anything past this is not one. */
export const MAX_CERTIFICATE_BYTES = 2048;

/** The sender's certificate, in the clear, first on relay channel 0 (before TLS). */
export function encodeCertificatePreface(der: Uint8Array): Uint8Array {
  if (der.length === 0 || der.length > MAX_CERTIFICATE_BYTES) {
    throw new RangeError(
      `Certificate must be 1 to ${MAX_CERTIFICATE_BYTES} bytes of DER, got ${der.length}`,
    );
  }
  const out = new Uint8Array(CERTIFICATE_PREFACE_HEADER + der.length);
  out.set(PREFACE_MAGIC, 0);
  out[4] = TLS_LINK_VERSION;
  new DataView(out.buffer).setUint16(5, der.length);
  out.set(der, CERTIFICATE_PREFACE_HEADER);
  return out;
}

/** The DER length a preface header announces, checked against the limit before reading on. */
export function decodeCertificatePrefaceHeader(header: Uint8Array): number {
  if (header.length !== CERTIFICATE_PREFACE_HEADER) {
    throw new ProtocolError(
      `Cannot decode certificate preface: header of ${header.length} bytes, expected ${CERTIFICATE_PREFACE_HEADER}`,
    );
  }
  if (PREFACE_MAGIC.some((byte, i) => header[i] !== byte)) {
    throw new ProtocolError("Cannot decode certificate preface: magic is not P2TC");
  }
  if (header[4] !== TLS_LINK_VERSION) {
    throw new ProtocolError(
      `Cannot decode certificate preface: version ${header[4]}, expected ${TLS_LINK_VERSION}`,
    );
  }
  const length = (header[5] << 8) | header[6];
  if (length === 0 || length > MAX_CERTIFICATE_BYTES) {
    throw new ProtocolError(
      `Cannot decode certificate preface: length ${length} is outside 1..${MAX_CERTIFICATE_BYTES} bytes`,
    );
  }
  return length;
}

/** At most 200 bytes of UTF-8, cut on a character boundary. */
function truncateUtf8(text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= MAX_REASON_BYTES) return bytes;
  let end = MAX_REASON_BYTES;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.slice(0, end);
}
