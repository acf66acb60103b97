/**
 * SHA-256 of what a transfer moves: @noble/hashes' for what is small, node:crypto's for what is
 * large. node:crypto's hash is native and runs at several hundred MB/s, but loading node:crypto
 * costs a process ~30 ms of CPU (its evaluation pulls in Node's streams, errors and ciphers), which
 * is a large part of a small transfer's start-up: a transfer whose files are all small never loads
 * it. noble's (already loaded for the PAKE) hashes a cold megabyte in about that time.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { toHex } from "../base/mod.ts";

/** A running SHA-256: node:crypto's `Hash` and noble's hasher, behind one shape. */
export interface Sha256 {
  update(data: Uint8Array): Sha256;
  digest(): Uint8Array;
  /** A copy of the state so far, to digest while this one goes on. */
  copy(): Sha256;
}

/** From this many bytes to hash, node:crypto's hash (loading it once) outruns noble's. */
export const NATIVE_SHA256_FROM = 1024 * 1024;

let native: Promise<typeof import("node:crypto")> | undefined;

/**
 * A new SHA-256 for a transfer that hashes `total` bytes in all (Infinity: unknown, as a
 * stream's): noble's below {@link NATIVE_SHA256_FROM}, node:crypto's from there. The whole
 * transfer decides, not each file: once node:crypto is loaded, its hash of a small file costs a
 * third of noble's CPU (21,000 files of 1.7 KB: 0.23–0.28 s against 0.65–0.93 s here).
 */
export async function newSha256(total: number): Promise<Sha256> {
  return (await sha256Kind(total)).create();
}

/** The SHA-256 a transfer uses (see {@link sha256Kind}). */
export interface Sha256Kind {
  /** A running hash. */
  create(): Sha256;
  /** The hash of `data`, in hex, in one call: a small file's, whole. */
  hex(data: Uint8Array): string;
}

/**
 * The SHA-256 of {@link newSha256} for a transfer that hashes `total` bytes, chosen once: a
 * sender of 21,000 small files awaited the choice per file. node:crypto's one-shot hex hash of a
 * small file took a third of the CPU of a Hash object's update and digest into a Buffer.
 */
export async function sha256Kind(total: number): Promise<Sha256Kind> {
  if (total < NATIVE_SHA256_FROM) {
    return { create: () => new NobleSha256(sha256.create()), hex: (data) => toHex(sha256(data)) };
  }
  native ??= import("node:crypto");
  const { createHash, hash } = await native;
  return { create: () => createHash("sha256"), hex: (data) => hash("sha256", data, "hex") };
}

/** The bytes a transfer of `files` hashes in all (each from its offset): what picks its SHA-256. */
export function bytesToHash(
  files: Iterable<{ size: number; offset: number; unknownSize?: boolean; stream?: unknown }>,
): number {
  let total = 0;
  for (const file of files) {
    total += file.stream || file.unknownSize ? Infinity : file.size - file.offset;
  }
  return total;
}

type NobleHash = ReturnType<typeof sha256.create>;

class NobleSha256 implements Sha256 {
  #hash: NobleHash;
  constructor(hash: NobleHash) {
    this.#hash = hash;
  }
  update(data: Uint8Array): Sha256 {
    this.#hash.update(data);
    return this;
  }
  digest(): Uint8Array {
    return this.#hash.digest();
  }
  copy(): Sha256 {
    return new NobleSha256(this.#hash.clone());
  }
}
