/**
 * P-256 for SPAKE2: noble's point arithmetic for encoding, validation and additions, and WebCrypto
 * (native) for the scalar multiplications. noble's constant-time multiplication runs as cold
 * JavaScript in a fresh process: SPAKE2's four of them cost each side ~40 ms of CPU on a quiet
 * host (more under load), most of the PAKE. WebCrypto's ECDH does one in microseconds, but gives
 * only the x-coordinate of d·P; {@link SecretScalar.times} recovers y from the curve equation and
 * picks the root with a second ECDH, on P + G: of (x, ±y), only d·P itself added to d·G (which the
 * key's JWK export gives, full) has the x-coordinate of d·(P + G).
 */
import { weierstrass } from "@noble/curves/abstract/weierstrass.js";

const A = 0xffffffff00000001000000000000000000000000fffffffffffffffffffffffcn;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;

/**
 * P-256 (FIPS 186-5, SEC 2), from noble's generic short-Weierstrass code: `@noble/curves/nist.js`
 * also builds P-384, P-521 and their hash-to-curve, OPRF and FROST suites when imported, a large
 * part of this process's start-up for curves it never uses.
 */
export const Point = weierstrass({
  p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
  n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  h: 1n,
  a: A,
  b: B,
  Gx: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  Gy: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
});
export type P256Point = typeof Point.BASE;

/**
 * P-256's generator as a point of its own: noble builds a large table for `Point.BASE` on first use
 * (tens of ms of CPU), which pays off only over many multiplications.
 */
export const GENERATOR = Point.fromAffine(Point.BASE.toAffine());

const ECDH = { name: "ECDH", namedCurve: "P-256" } as const;
/** PKCS #8 PrivateKeyInfo of a P-256 ECPrivateKey (RFC 5915) without its optional public key. */
// deno-fmt-ignore
const PKCS8_PREFIX = Uint8Array.of(
  0x30, 0x41, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
  0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x27, 0x30, 0x25, 0x02, 0x01,
  0x01, 0x04, 0x20,
);

/** A secret scalar d in [1, n-1], held as a WebCrypto ECDH key. */
export class SecretScalar {
  /** d·G. */
  readonly base: P256Point;
  readonly #d: bigint;
  readonly #key: CryptoKey;

  private constructor(d: bigint, key: CryptoKey, base: P256Point) {
    this.#d = d;
    this.#key = key;
    this.base = base;
  }

  static async of(d: bigint): Promise<SecretScalar> {
    const pkcs8 = new Uint8Array(PKCS8_PREFIX.length + 32);
    pkcs8.set(PKCS8_PREFIX);
    pkcs8.set(Point.Fn.toBytes(d), PKCS8_PREFIX.length);
    const key = await crypto.subtle.importKey("pkcs8", pkcs8, ECDH, true, ["deriveBits"]);
    const jwk = await crypto.subtle.exportKey("jwk", key);
    const base = Point.fromAffine({ x: fromBase64Url(jwk.x!), y: fromBase64Url(jwk.y!) });
    return new SecretScalar(d, key, base);
  }

  /** d·P, for P a valid point other than the identity. */
  async times(point: P256Point): Promise<P256Point> {
    const plus = point.add(GENERATOR);
    // P = -G: P + G has no encoding to import. No honest share leads here; noble multiplies.
    if (plus.is0()) return point.multiply(this.#d);
    const [x, xPlus] = await Promise.all([this.#x(point), this.#x(plus)]);
    const y = Point.Fp.sqrt(Point.Fp.add(Point.Fp.mul(Point.Fp.add(Point.Fp.sqr(x), A), x), B));
    const root = Point.fromAffine({ x, y });
    const other = root.negate();
    // Both checked, then one taken: which root d·P is does not show in the time taken.
    const rootFits = xOf(root.add(this.base)) === xPlus;
    const otherFits = xOf(other.add(this.base)) === xPlus;
    if (rootFits === otherFits) throw new Error("P-256: no single root matches d·(P + G)");
    return rootFits ? root : other;
  }

  /** The x-coordinate of d·P (ECDH). */
  async #x(point: P256Point): Promise<bigint> {
    const peer = await crypto.subtle.importKey("raw", point.toBytes(false), ECDH, false, []);
    const bits = await crypto.subtle.deriveBits({ name: "ECDH", public: peer }, this.#key, 256);
    return Point.Fp.fromBytes(new Uint8Array(bits));
  }
}

function xOf(point: P256Point): bigint | undefined {
  return point.is0() ? undefined : point.toAffine().x;
}

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** A JWK coordinate (unpadded base64url, RFC 7518) as a number; `atob` is loaded lazily, ~7 ms. */
function fromBase64Url(text: string): bigint {
  let value = 0n;
  for (const char of text) value = (value << 6n) | BigInt(BASE64URL.indexOf(char));
  // 43 characters carry 258 bits for a 256-bit coordinate: drop the 2 padding bits.
  return value >> BigInt((text.length * 6) % 8);
}
