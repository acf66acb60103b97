/**
 * The DER of the one certificate shape p2pft needs (RFC 5280): a v3,
 * self-signed, ECDSA P-256 / SHA-256 end-entity certificate with basic
 * constraints (critical, not a CA) and one DNS subject alternative name.
 * Written out here because a general X.509 library cost every process about
 * 0.45 s to load, for this one certificate.
 */
import { concatBytes } from "../../base/mod.ts";

const SEQUENCE = 0x30;
const SET = 0x31;
const INTEGER = 0x02;
const BIT_STRING = 0x03;
const OCTET_STRING = 0x04;
const UTF8_STRING = 0x0c;
const UTC_TIME = 0x17;
const BOOLEAN_TRUE = [0x01, 0x01, 0xff];
/** 1.2.840.10045.4.3.2 */
const ECDSA_WITH_SHA256 = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
/** 2.5.4.3 */
const COMMON_NAME = [0x06, 0x03, 0x55, 0x04, 0x03];
/** 2.5.29.19 */
const BASIC_CONSTRAINTS = [0x06, 0x03, 0x55, 0x1d, 0x13];
/** 2.5.29.17 */
const SUBJECT_ALT_NAME = [0x06, 0x03, 0x55, 0x1d, 0x11];
/** [0] EXPLICIT, [3] EXPLICIT, [2] IMPLICIT (dNSName). */
const VERSION_TAG = 0xa0;
const EXTENSIONS_TAG = 0xa3;
const DNS_NAME_TAG = 0x82;

type Der = Uint8Array | number[];

function tlv(tag: number, ...parts: Der[]): Uint8Array<ArrayBuffer> {
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  const head = length < 0x80
    ? [tag, length]
    : length < 0x100
    ? [tag, 0x81, length]
    : length < 0x10000
    ? [tag, 0x82, length >> 8, length & 0xff]
    : null;
  if (head === null) throw new RangeError(`Cannot encode DER: ${length} bytes is too long`);
  return concatBytes([head, ...parts]);
}

/** A non-negative INTEGER from big-endian magnitude bytes. */
function unsignedInteger(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  return trimmed[0] & 0x80 ? tlv(INTEGER, [0], trimmed) : tlv(INTEGER, trimmed);
}

function utcTime(date: Date): Uint8Array {
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 2049) throw new RangeError(`Cannot encode UTCTime for year ${year}`);
  const two = (n: number) => String(n).padStart(2, "0");
  const text = two(year % 100) + two(date.getUTCMonth() + 1) + two(date.getUTCDate()) +
    two(date.getUTCHours()) + two(date.getUTCMinutes()) + two(date.getUTCSeconds()) + "Z";
  return tlv(UTC_TIME, new TextEncoder().encode(text));
}

function name(commonName: string): Uint8Array {
  const value = tlv(UTF8_STRING, new TextEncoder().encode(commonName));
  return tlv(SEQUENCE, tlv(SET, tlv(SEQUENCE, COMMON_NAME, value)));
}

export interface SelfSignedOptions {
  keys: CryptoKeyPair;
  /** Big-endian serial number; its first byte must be 1..0x7f (positive, minimal). */
  serial: Uint8Array;
  commonName: string;
  dnsName: string;
  notBefore: Date;
  notAfter: Date;
}

/** Builds and signs the certificate; returns its DER. */
export async function selfSignedCertificate(options: SelfSignedOptions): Promise<Uint8Array> {
  if (options.serial.length === 0 || options.serial[0] === 0 || options.serial[0] & 0x80) {
    throw new RangeError("Cannot encode the serial number: its first byte must be 1..0x7f");
  }
  const algorithm = tlv(SEQUENCE, ECDSA_WITH_SHA256);
  const subject = name(options.commonName);
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", options.keys.publicKey));
  const basicConstraints = tlv(
    SEQUENCE,
    BASIC_CONSTRAINTS,
    BOOLEAN_TRUE,
    tlv(OCTET_STRING, tlv(SEQUENCE)),
  );
  const altName = tlv(
    SEQUENCE,
    SUBJECT_ALT_NAME,
    tlv(
      OCTET_STRING,
      tlv(SEQUENCE, tlv(DNS_NAME_TAG, new TextEncoder().encode(options.dnsName))),
    ),
  );
  const tbs = tlv(
    SEQUENCE,
    tlv(VERSION_TAG, tlv(INTEGER, [2])),
    tlv(INTEGER, options.serial),
    algorithm,
    subject,
    tlv(SEQUENCE, utcTime(options.notBefore), utcTime(options.notAfter)),
    subject,
    spki,
    tlv(EXTENSIONS_TAG, tlv(SEQUENCE, basicConstraints, altName)),
  );
  // WebCrypto signs as r || s (32 bytes each); X.509 wants SEQUENCE { r, s }.
  const raw = new Uint8Array(
    await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, options.keys.privateKey, tbs),
  );
  const signature = tlv(
    SEQUENCE,
    unsignedInteger(raw.subarray(0, 32)),
    unsignedInteger(raw.subarray(32)),
  );
  return tlv(SEQUENCE, tbs, algorithm, tlv(BIT_STRING, [0], signature));
}

/** PEM armour (RFC 7468) around DER bytes. */
export function pem(label: string, der: Uint8Array): string {
  const base64 = btoa(String.fromCharCode(...der));
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
