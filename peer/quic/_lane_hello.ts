/**
 * The lane hello (peer/PROTOCOL.md, "Lanes"): the first bytes the receiver
 * writes on a lane, an extra QUIC connection over the punched port pair, to
 * show the sender it comes from the peer that passed the PAKE. Pure
 * encode/decode and the proof's derivation.
 */
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { ProtocolError } from "../../base/mod.ts";

/** ASCII "P2LN". */
const MAGIC = [0x50, 0x32, 0x4c, 0x4e];
/** The lane hello's layout version (the ALPN that allows lanes is `p2pft/2`). */
export const LANE_HELLO_VERSION = 1;
/** The proof: 32 bytes of HKDF output. */
export const LANE_PROOF_BYTES = 32;
/** magic 4, version 1, index 1, reserved 2, proof 32. */
export const LANE_HELLO_BYTES = 8 + LANE_PROOF_BYTES;
const PROOF_INFO = new TextEncoder().encode("p2pft quic lane v1");

export interface LaneHello {
  /** 1..255: the lane's number (the first connection, which carries the PAKE, is lane 0). */
  index: number;
  proof: Uint8Array;
}

/**
 * What a lane presents: HKDF-SHA256 of the PAKE's session key. Only the two
 * peers know the key, and the proof travels only inside TLS to the pinned
 * sender, so nobody else can present it.
 */
export function laneProof(sessionKey: Uint8Array): Uint8Array {
  return hkdf(sha256, sessionKey, undefined, PROOF_INFO, LANE_PROOF_BYTES);
}

export function encodeLaneHello(hello: LaneHello): Uint8Array {
  if (!Number.isInteger(hello.index) || hello.index < 1 || hello.index > 255) {
    throw new RangeError(`Lane index ${hello.index} is not in 1..255`);
  }
  if (hello.proof.length !== LANE_PROOF_BYTES) {
    throw new RangeError(`Lane proof is ${hello.proof.length} bytes, expected ${LANE_PROOF_BYTES}`);
  }
  const out = new Uint8Array(LANE_HELLO_BYTES);
  out.set(MAGIC, 0);
  out[4] = LANE_HELLO_VERSION;
  out[5] = hello.index;
  out.set(hello.proof, 8);
  return out;
}

export function decodeLaneHello(bytes: Uint8Array): LaneHello {
  const fail = (why: string) => new ProtocolError(`Cannot decode the lane hello: ${why}`);
  if (bytes.length !== LANE_HELLO_BYTES) {
    throw fail(`${bytes.length} bytes, expected ${LANE_HELLO_BYTES}`);
  }
  if (MAGIC.some((byte, index) => bytes[index] !== byte)) throw fail("wrong magic");
  if (bytes[4] !== LANE_HELLO_VERSION) throw fail(`unknown version ${bytes[4]}`);
  if (bytes[5] === 0) throw fail("lane index 0 is the first connection");
  if (bytes[6] !== 0 || bytes[7] !== 0) throw fail("reserved bytes are not 0");
  return { index: bytes[5], proof: bytes.slice(8) };
}
