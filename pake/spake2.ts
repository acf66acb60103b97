/**
 * SPAKE2 (RFC 9382), suite SPAKE2-P256-SHA256-HKDF-HMAC, as a pure state
 * machine: no IO, no clocks. {@link runPakeHandshake} drives it over a stream.
 *
 * Roles in p2pft: A is the receiver (the QUIC client), B is the sender (the
 * QUIC server). The RFC's formulas, with G = P-256, P its generator, h = 1:
 *
 *   pA = x*P + w*M                 pB = y*P + w*N
 *   K  = x*(pB - w*N)              K  = y*(pA - w*M)
 *   TT = len(A)||A || len(B)||B || len(pA)||pA || len(pB)||pB || len(K)||K || len(w)||w
 *   Ke || Ka   = SHA-256(TT)                      (16 bytes each)
 *   KcA || KcB = HKDF-SHA256(salt = nil, ikm = Ka, info = "ConfirmationKeys" || AAD, 32)
 *   cA = HMAC-SHA256(KcA, TT)      cB = HMAC-SHA256(KcB, TT)
 *
 * `len` is an 8-byte little-endian length, points are uncompressed SEC1
 * (65 bytes), w is 32 bytes big-endian. A sends cA and checks cB; B the reverse.
 *
 * @module
 */
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { ProtocolError } from "../base/mod.ts";
import { type P256Point, Point, SecretScalar } from "./_p256.ts";
import {
  constantTimeEqual,
  SCALAR_LENGTH,
  spake2KeySchedule,
  spake2Transcript,
} from "./_schedule.ts";

export {
  constantTimeEqual,
  spake2KeySchedule,
  type Spake2Schedule,
  spake2Transcript,
  type Spake2TranscriptInput,
} from "./_schedule.ts";

/** Which side of RFC 9382 a party plays. In p2pft: A = receiver, B = sender. */
export type Spake2Role = "A" | "B";

/** Inputs both sides must agree on, or confirmation fails. */
export interface Spake2Options {
  /** Identity of party A (the receiver), bound into the transcript. */
  identityA: Uint8Array;
  /** Identity of party B (the sender), bound into the transcript. */
  identityB: Uint8Array;
  /** Associated data bound into the confirmation keys (p2pft: the channel binding). */
  aad?: Uint8Array;
}

/** What {@link Spake2.finish} yields: the shared key and the confirmation MACs. */
export interface Spake2Keys {
  /** Ke: the 16-byte shared secret. Use it only after the peer's MAC verified. */
  sharedKey: Uint8Array;
  /** This side's confirmation MAC (cA for A, cB for B), 32 bytes, to send to the peer. */
  ownConfirmation: Uint8Array;
  /** Checks the peer's confirmation MAC in constant time. */
  verifyPeerConfirmation(mac: Uint8Array): boolean;
}

/** Group order n of P-256. */
const ORDER = Point.Fn.ORDER;
/** Size of an uncompressed SEC1 point, the only encoding on the wire. */
export const SPAKE2_MESSAGE_LENGTH = 65;
/** Size of a confirmation MAC (HMAC-SHA256). */
export const SPAKE2_MAC_LENGTH = 32;

/** RFC 9382 section 6, P-256 M (compressed SEC1). */
export const SPAKE2_M_HEX = "02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f";
/** RFC 9382 section 6, P-256 N (compressed SEC1). */
export const SPAKE2_N_HEX = "03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49";
// M and N as affine coordinates: decoding the compressed forms takes a square root each at start-up
// (a test checks that these are the points the RFC's encodings name).
export const M = Point.fromAffine({
  x: 0x886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12fn,
  y: 0x5ff355163e43ce224e0b0e65ff02ac8e5c7be09419c785e0ca547d55a12e2d20n,
});
export const N = Point.fromAffine({
  x: 0xd8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49n,
  y: 0x07d60aa6bfade45008a636337f5168c64d9bd36034808cd564490b1e656edbe7n,
});

const encoder = new TextEncoder();
const W_SALT = encoder.encode("p2pft SPAKE2-P256 password to w v1");

/**
 * Maps password bytes to the SPAKE2 scalar w, in [1, n-1] (never 0).
 *
 * w = (OS2IP(HKDF-SHA256(ikm = password, salt = "p2pft SPAKE2-P256 password to w v1",
 * info = "", 48 bytes)) mod (n - 1)) + 1. 48 bytes = 384 bits keeps the bias of the
 * reduction below 2^-128. RFC 9382 suggests a memory-hard function; p2pft uses a
 * fast one on purpose: w is never stored, the code is single-use, and SPAKE2
 * gives an eavesdropper nothing to test guesses against offline, so the only
 * attack is one online guess per session, which a slow hash does not slow down.
 */
export function passwordToScalar(password: Uint8Array): bigint {
  if (!(password instanceof Uint8Array) || password.length === 0) {
    throw new RangeError("Cannot derive the SPAKE2 scalar: the password is empty");
  }
  const wide = hkdf(sha256, password, W_SALT, new Uint8Array(0), 48);
  return (bytesToBigInt(wide) % (ORDER - 1n)) + 1n;
}

/** Builds a {@link Spake2} (its constructor is private): set in its static block. */
let construct: (
  role: Spake2Role,
  w: bigint,
  secret: SecretScalar,
  points: { message: Uint8Array; unmask: P256Point },
  options: Spake2Options,
) => Spake2;

/** One side of a SPAKE2 exchange. Create with {@link Spake2.start}; finish once. */
export class Spake2 {
  /** This side's role. */
  readonly role: Spake2Role;
  /** This side's share (pA or pB), 65 bytes, to send to the peer. */
  readonly message: Uint8Array;
  #w: bigint;
  #secret: SecretScalar;
  /** w*N (A) or w*M (B), taken off the peer's share: computed at the start, not on the finish. */
  #unmask: P256Point;
  #identityA: Uint8Array;
  #identityB: Uint8Array;
  #aad: Uint8Array;
  #finished = false;

  static {
    construct = (role, w, secret, points, options) => new Spake2(role, w, secret, points, options);
  }

  private constructor(
    role: Spake2Role,
    w: bigint,
    secret: SecretScalar,
    points: { message: Uint8Array; unmask: P256Point },
    options: Spake2Options,
  ) {
    this.role = role;
    this.#w = w;
    this.#secret = secret;
    this.message = points.message;
    this.#unmask = points.unmask;
    this.#identityA = options.identityA.slice();
    this.#identityB = options.identityB.slice();
    this.#aad = (options.aad ?? new Uint8Array(0)).slice();
  }

  /**
   * Starts a side from password bytes (see {@link passwordToScalar}).
   * `random`, for tests only, is the secret scalar x (or y) as 32 big-endian bytes.
   */
  static async start(
    role: Spake2Role,
    password: Uint8Array,
    options: Spake2Options,
    random?: Uint8Array,
  ): Promise<Spake2> {
    return await Spake2.startWithScalar(role, passwordToScalar(password), options, random);
  }

  /** Starts a side from the scalar w directly (RFC test vectors give w, not a password). */
  static async startWithScalar(
    role: Spake2Role,
    w: bigint,
    options: Spake2Options,
    random?: Uint8Array,
  ): Promise<Spake2> {
    checkRoleAndScalar(role, w);
    checkOptions(options);
    return (await Spake2Share.make(role, w, random)).bind(options);
  }

  /**
   * The share of a side, before its identities and associated data are known: they enter only
   * the transcript and the key schedule, at the finish, so the three scalar multiplications can
   * run as soon as the password is known (peer/_early_share.ts). Bind it once with
   * {@link Spake2Share.bind}.
   */
  static async share(role: Spake2Role, password: Uint8Array): Promise<Spake2Share> {
    const w = passwordToScalar(password);
    checkRoleAndScalar(role, w);
    return await Spake2Share.make(role, w);
  }

  /**
   * Consumes the peer's share and derives the keys. Throws a ProtocolError if
   * the share is not a valid P-256 point, and a TypeError if called twice.
   */
  async finish(peerMessage: Uint8Array): Promise<Spake2Keys> {
    if (this.#finished) throw new TypeError("Cannot finish SPAKE2 twice: start a new exchange");
    this.#finished = true;
    const peer = decodeSpake2Message(peerMessage);
    const k = peer.subtract(this.#unmask);
    if (k.is0()) {
      throw new ProtocolError(
        "Cannot finish SPAKE2: the peer's share cancels the password mask (K would be the identity)",
      );
    }
    const kBytes = (await this.#secret.times(k)).toBytes(false);
    const [pA, pB] = this.role === "A" ? [this.message, peerMessage] : [peerMessage, this.message];
    const tt = spake2Transcript({
      identityA: this.#identityA,
      identityB: this.#identityB,
      pA,
      pB,
      k: kBytes,
      w: this.#w,
    });
    const schedule = spake2KeySchedule(tt, this.#aad);
    const [own, expected] = this.role === "A"
      ? [schedule.cA, schedule.cB]
      : [schedule.cB, schedule.cA];
    return {
      sharedKey: schedule.ke,
      ownConfirmation: own,
      verifyPeerConfirmation: (mac: Uint8Array) => constantTimeEqual(mac, expected),
    };
  }
}

/** One side's share, not yet bound to the identities and associated data: see {@link Spake2.share}. */
export class Spake2Share {
  /** This side's role. */
  readonly role: Spake2Role;
  /** This side's share (pA or pB), 65 bytes, to send to the peer. */
  readonly message: Uint8Array;
  readonly #w: bigint;
  readonly #secret: SecretScalar;
  readonly #unmask: P256Point;
  #bound = false;

  private constructor(
    role: Spake2Role,
    w: bigint,
    secret: SecretScalar,
    points: { message: Uint8Array; unmask: P256Point },
  ) {
    this.role = role;
    this.message = points.message;
    this.#w = w;
    this.#secret = secret;
    this.#unmask = points.unmask;
  }

  /** x·G + w·M (A) or y·G + w·N (B), and the mask to take off the peer's share. */
  static async make(role: Spake2Role, w: bigint, random?: Uint8Array): Promise<Spake2Share> {
    const [wKey, secret] = await Promise.all([
      SecretScalar.of(w),
      SecretScalar.of(randomScalar(random)),
    ]);
    // The start runs while this side waits on the network (peer/_early_share.ts); the finish runs
    // when the peer's share arrives, on the path to `connected`: one multiplication there, not two.
    const [mask, unmask] = await Promise.all([
      wKey.times(role === "A" ? M : N),
      wKey.times(role === "A" ? N : M),
    ]);
    const message = secret.base.add(mask).toBytes(false);
    return new Spake2Share(role, w, secret, { message, unmask });
  }

  /** The side, bound to the identities and associated data; once only (one secret, one exchange). */
  bind(options: Spake2Options): Spake2 {
    checkOptions(options);
    if (this.#bound) throw new TypeError("Cannot bind a SPAKE2 share twice: make a new one");
    this.#bound = true;
    const points = { message: this.message, unmask: this.#unmask };
    return construct(this.role, this.#w, this.#secret, points, options);
  }
}

function checkRoleAndScalar(role: Spake2Role, w: bigint): void {
  if (role !== "A" && role !== "B") {
    throw new TypeError(`Cannot start SPAKE2: role "${role}" is neither "A" nor "B"`);
  }
  if (typeof w !== "bigint" || w <= 0n || w >= ORDER) {
    throw new RangeError("Cannot start SPAKE2: w must be in [1, n-1]");
  }
}

function checkOptions(options: Spake2Options): void {
  if (!(options?.identityA instanceof Uint8Array) || !(options.identityB instanceof Uint8Array)) {
    throw new TypeError("Cannot start SPAKE2: identityA and identityB must be Uint8Arrays");
  }
  if (options.aad !== undefined && !(options.aad instanceof Uint8Array)) {
    throw new TypeError("Cannot start SPAKE2: aad must be a Uint8Array");
  }
}

/**
 * Decodes a peer's share: exactly 65 bytes, uncompressed SEC1 (0x04 || x || y),
 * coordinates below p, on the curve, not the identity. Anything else is a ProtocolError.
 */
export function decodeSpake2Message(bytes: Uint8Array): P256Point {
  if (!(bytes instanceof Uint8Array)) {
    throw new ProtocolError("Cannot decode SPAKE2 share: it is not a byte array");
  }
  if (bytes.length !== SPAKE2_MESSAGE_LENGTH) {
    throw new ProtocolError(
      `Cannot decode SPAKE2 share: length ${bytes.length} is not ${SPAKE2_MESSAGE_LENGTH} bytes`,
    );
  }
  if (bytes[0] !== 0x04) {
    throw new ProtocolError(
      `Cannot decode SPAKE2 share: prefix 0x${hex2(bytes[0])} is not 0x04 (uncompressed point)`,
    );
  }
  let point: P256Point;
  try {
    point = Point.fromBytes(bytes);
    point.assertValidity();
  } catch (error) {
    throw new ProtocolError("Cannot decode SPAKE2 share: it is not a point on P-256", {
      cause: error,
    });
  }
  if (point.is0()) {
    throw new ProtocolError("Cannot decode SPAKE2 share: it is the identity element");
  }
  return point;
}

function randomScalar(random: Uint8Array | undefined): bigint {
  if (random !== undefined) {
    if (!(random instanceof Uint8Array) || random.length !== SCALAR_LENGTH) {
      throw new RangeError(
        `Cannot start SPAKE2: the test scalar must be ${SCALAR_LENGTH} bytes, got ${random?.length}`,
      );
    }
    const scalar = bytesToBigInt(random);
    if (scalar <= 0n || scalar >= ORDER) {
      throw new RangeError("Cannot start SPAKE2: the test scalar must be in [1, n-1]");
    }
    return scalar;
  }
  // 48 random bytes reduced mod n-1, plus 1: uniform in [1, n-1] up to 2^-128.
  return (bytesToBigInt(crypto.getRandomValues(new Uint8Array(48))) % (ORDER - 1n)) + 1n;
}

function bytesToBigInt(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

function hex2(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}
