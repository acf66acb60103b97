/**
 * The certificate's P-256 key, made by importing a random scalar instead of WebCrypto's
 * `generateKey`: in Deno 2.9.6 the first EC `generateKey` in a process costs 35-60 ms of CPU
 * (ECDSA or ECDH alike), an import of the same key about 2 ms. The scalar comes from
 * `crypto.getRandomValues` (the CSPRNG `generateKey` uses too), drawn again when it is 0 or not
 * below the group order.
 */
import { concatBytes, fromHex, toHex } from "../../base/mod.ts";

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const;
/** n, the order of P-256's group. */
const ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
/**
 * PKCS#8 (RFC 5208) of a P-256 key up to its 32-byte scalar: version 0, id-ecPublicKey on
 * prime256v1, an ECPrivateKey (RFC 5915) version 1; without (`SHORT`) or with (`FULL`, then the
 * scalar, `PUBLIC`, 0x04 x y) the optional public key, which rustls' ring backend requires.
 */
const SHORT = fromHex("3041020100301306072a8648ce3d020106082a8648ce3d030107042730250201010420");
const FULL = fromHex("308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420");
const PUBLIC = fromHex("a14403420004");

export interface SigningKey {
  keys: CryptoKeyPair;
  /** The private key as PKCS#8 with its public key, for the TLS server. */
  pkcs8: Uint8Array<ArrayBuffer>;
}

export async function signingKey(): Promise<SigningKey> {
  let scalar: Uint8Array;
  do scalar = crypto.getRandomValues(new Uint8Array(32)); while (!inRange(scalar));
  const privateKey = await crypto.subtle.importKey(
    "pkcs8",
    concatBytes([SHORT, scalar]),
    ALGORITHM,
    true,
    ["sign"],
  );
  const { x, y } = await crypto.subtle.exportKey("jwk", privateKey);
  const publicKey = await crypto.subtle.importKey(
    "jwk",
    { kty: "EC", crv: "P-256", x, y },
    ALGORITHM,
    true,
    ["verify"],
  );
  const point = [x!, y!].map(base64Url);
  return {
    keys: { privateKey, publicKey },
    pkcs8: concatBytes([FULL, scalar, PUBLIC, ...point]),
  };
}

function inRange(scalar: Uint8Array): boolean {
  const value = BigInt(`0x${toHex(scalar)}`);
  return value > 0n && value < ORDER;
}

/** The bytes of a JWK coordinate (base64url, unpadded), left-padded to 32. */
function base64Url(text: string): Uint8Array {
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
  return concatBytes([new Uint8Array(32 - bytes.length), bytes]);
}
