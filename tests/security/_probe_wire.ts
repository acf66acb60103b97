/**
 * The punch datagram of peer/PROTOCOL.md, written from the document alone
 * (the attacker in mitm_test.ts has no access to peer/'s private code):
 * "P2PB" | version 1 | type | token[16] | from[16] | nonce u32 | (chosen-ack: len u16 | cert DER).
 */

export const PROBE = 1;
export const ACK = 2;
export const CHOSEN = 3;
export const CHOSEN_ACK = 4;

export interface ProbeDatagram {
  type: number;
  token: Uint8Array;
  from: Uint8Array;
  nonce: number;
  /** chosen-ack only: the certificate, DER. */
  certificate?: Uint8Array;
}

const MAGIC = [0x50, 0x32, 0x50, 0x42];

export function encodeProbe(probe: ProbeDatagram): Uint8Array {
  const certificate = probe.type === CHOSEN_ACK ? probe.certificate ?? new Uint8Array() : null;
  const out = new Uint8Array(42 + (certificate ? 2 + certificate.length : 0));
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[4] = 1;
  out[5] = probe.type;
  out.set(probe.token, 6);
  out.set(probe.from, 22);
  view.setUint32(38, probe.nonce >>> 0);
  if (certificate) {
    view.setUint16(42, certificate.length);
    out.set(certificate, 44);
  }
  return out;
}

/** The datagram, or undefined for anything that is not a version-1 probe. */
export function decodeProbe(data: Uint8Array): ProbeDatagram | undefined {
  if (data.length < 42 || data.length > 1200 || MAGIC.some((byte, i) => data[i] !== byte)) {
    return undefined;
  }
  if (data[4] !== 1 || data[5] < PROBE || data[5] > CHOSEN_ACK) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const probe: ProbeDatagram = {
    type: data[5],
    token: data.slice(6, 22),
    from: data.slice(22, 38),
    nonce: view.getUint32(38),
  };
  if (probe.type === CHOSEN_ACK) {
    if (data.length < 44 || data.length !== 44 + view.getUint16(42)) return undefined;
    probe.certificate = data.slice(44);
  }
  return probe;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}
