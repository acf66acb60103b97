/**
 * SPAKE2's transcript and key schedule (RFC 9382, sections 3.3 and 4): what both sides derive
 * from the exchange once each has the other's share.
 */
import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";

/** Bytes of a P-256 scalar. */
export const SCALAR_LENGTH = 32;

const CONFIRMATION_INFO = new TextEncoder().encode("ConfirmationKeys");

/** The intermediate values of the key schedule, as RFC 9382 Appendix B prints them. */
export interface Spake2Schedule {
  ke: Uint8Array;
  ka: Uint8Array;
  kcA: Uint8Array;
  kcB: Uint8Array;
  cA: Uint8Array;
  cB: Uint8Array;
}

/** Inputs of the RFC 9382 transcript TT. */
export interface Spake2TranscriptInput {
  identityA: Uint8Array;
  identityB: Uint8Array;
  pA: Uint8Array;
  pB: Uint8Array;
  k: Uint8Array;
  w: bigint;
}

/** Builds TT: each field prefixed with its length as 8 little-endian bytes. */
export function spake2Transcript(input: Spake2TranscriptInput): Uint8Array {
  const fields = [
    input.identityA,
    input.identityB,
    input.pA,
    input.pB,
    input.k,
    bigIntToBytes(input.w, SCALAR_LENGTH),
  ];
  const total = fields.reduce((sum, field) => sum + 8 + field.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const field of fields) {
    view.setBigUint64(offset, BigInt(field.length), true);
    out.set(field, offset + 8);
    offset += 8 + field.length;
  }
  return out;
}

/** Derives Ke, Ka, KcA, KcB, cA and cB from TT and the AAD (RFC 9382 section 4). */
export function spake2KeySchedule(tt: Uint8Array, aad: Uint8Array): Spake2Schedule {
  const digest = sha256(tt);
  const ke = digest.slice(0, 16);
  const ka = digest.slice(16, 32);
  const info = new Uint8Array(CONFIRMATION_INFO.length + aad.length);
  info.set(CONFIRMATION_INFO);
  info.set(aad, CONFIRMATION_INFO.length);
  const kc = hkdf(sha256, ka, undefined, info, 32);
  const kcA = kc.slice(0, 16);
  const kcB = kc.slice(16, 32);
  return { ke, ka, kcA, kcB, cA: hmac(sha256, kcA, tt), cB: hmac(sha256, kcB, tt) };
}

/** Compares two byte arrays without an early exit on the first difference. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== b.length) {
    return false;
  }
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function bigIntToBytes(value: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return out;
}
