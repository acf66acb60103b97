import { ProtocolError } from "../../base/mod.ts";
import { PROBE_VERSION } from "../version_mod.ts";

export { PROBE_VERSION };

/** First bytes of every punch datagram (rendezvous datagrams start with "P2RV"). */
export const PROBE_MAGIC = new Uint8Array([0x50, 0x32, 0x50, 0x42]); // "P2PB"
/** Largest probe datagram: header plus a certificate. */
export const MAX_PROBE_BYTES = 1200;
const MAX_CERTIFICATE_BYTES = MAX_PROBE_BYTES - 44;
const HEADER_BYTES = 42;

/** The four punch messages; see peer/PROTOCOL.md. */
export type ProbeType = "probe" | "ack" | "chosen" | "chosen-ack";
const TYPE_CODES: Record<ProbeType, number> = { probe: 1, ack: 2, chosen: 3, "chosen-ack": 4 };
const TYPE_NAMES = new Map(Object.entries(TYPE_CODES).map(([name, code]) => [code, name]));

export interface Probe {
  type: ProbeType;
  /** 16 bytes the rendezvous server gave both peers of one pairing. */
  token: Uint8Array;
  /** 16-byte id of the peer that sent this datagram. */
  from: Uint8Array;
  /** Echoed by the answer, so the asker can time the round trip. */
  nonce: number;
  /** Only in `chosen-ack`: the sender's certificate, DER. */
  certificate?: Uint8Array;
}

/** True when the bytes start with the probe magic. */
export function isProbeDatagram(data: Uint8Array): boolean {
  return data.length >= 4 && PROBE_MAGIC.every((byte, index) => data[index] === byte);
}

export function encodeProbe(probe: Probe): Uint8Array {
  if (probe.token.length !== 16 || probe.from.length !== 16) {
    throw new RangeError("Probe token and id must be 16 bytes each");
  }
  const certificate = probe.type === "chosen-ack" ? probe.certificate ?? new Uint8Array() : null;
  if (certificate && certificate.length > MAX_CERTIFICATE_BYTES) {
    throw new RangeError(`Certificate of ${certificate.length} bytes does not fit in a probe`);
  }
  const bytes = new Uint8Array(HEADER_BYTES + (certificate ? 2 + certificate.length : 0));
  const view = new DataView(bytes.buffer);
  bytes.set(PROBE_MAGIC, 0);
  bytes[4] = PROBE_VERSION;
  bytes[5] = TYPE_CODES[probe.type];
  bytes.set(probe.token, 6);
  bytes.set(probe.from, 22);
  view.setUint32(38, probe.nonce >>> 0);
  if (certificate) {
    view.setUint16(HEADER_BYTES, certificate.length);
    bytes.set(certificate, HEADER_BYTES + 2);
  }
  return bytes;
}

export function decodeProbe(data: Uint8Array): Probe {
  if (data.length > MAX_PROBE_BYTES) {
    throw new ProtocolError(
      `Cannot decode probe: length ${data.length} exceeds limit of ${MAX_PROBE_BYTES} bytes`,
    );
  }
  if (data.length < HEADER_BYTES || !isProbeDatagram(data)) {
    throw new ProtocolError(`Cannot decode probe: ${data.length} bytes without a probe header`);
  }
  if (data[4] !== PROBE_VERSION) {
    throw new ProtocolError(`Cannot decode probe: version ${data[4]}, expected ${PROBE_VERSION}`);
  }
  const type = TYPE_NAMES.get(data[5]) as ProbeType | undefined;
  if (type === undefined) throw new ProtocolError(`Cannot decode probe: unknown type ${data[5]}`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const probe: Probe = {
    type,
    token: data.slice(6, 22),
    from: data.slice(22, 38),
    nonce: view.getUint32(38),
  };
  if (type === "chosen-ack") {
    if (data.length < HEADER_BYTES + 2) {
      throw new ProtocolError("Cannot decode chosen-ack: certificate length missing");
    }
    const length = view.getUint16(HEADER_BYTES);
    if (data.length !== HEADER_BYTES + 2 + length) {
      throw new ProtocolError(
        `Cannot decode chosen-ack: certificate length ${length} does not match datagram length ${data.length}`,
      );
    }
    probe.certificate = data.slice(HEADER_BYTES + 2);
  }
  return probe;
}
