/**
 * Return-routability cookies (as QUIC Retry tokens, DTLS HelloVerifyRequest,
 * WireGuard cookie replies): a MAC over the time and the source address, so
 * the server proves that a source receives what is sent to it without keeping
 * any state for it. Pure; secret and clock injected.
 *
 *   cookie = HMAC-SHA-256(secret, period u32 BE | IPv4 (4) | port u16 BE)[0..16]
 *
 * A cookie is valid in the period it was minted in and in the next one. The
 * server's port is not covered: one cookie serves the main, alt and relay
 * ports, which all see the client's socket under the same address when its
 * NAT maps endpoint-independently.
 */
import { encodeAddr } from "./_addr.ts";
import { ShortHmac } from "./_hmac.ts";
import { COOKIE_SIZE } from "./_wire.ts";

/** Length of the server's cookie secret. */
export const COOKIE_SECRET_SIZE = 32;
/** Length of one time period; a cookie lives one to two periods. */
export const COOKIE_PERIOD_MS = 30_000;

/** What a presented cookie proves: `current` (minted this period), `previous` (refresh it), or nothing. */
export type CookieCheck = "current" | "previous" | "invalid";

export interface CookieMinterOptions {
  /** The MAC key, at least 16 bytes; instances behind one address must share it. */
  secret: Uint8Array;
  /** Wall-clock milliseconds (`Date.now`): instances sharing a secret must agree on the period. */
  now: () => number;
  /** Period length (default {@link COOKIE_PERIOD_MS}). */
  periodMs?: number;
}

export class CookieMinter {
  /** HMAC keyed once: two SHA-256 compressions per MAC, no key schedule per datagram. */
  readonly #keyed: ShortHmac;
  readonly #now: () => number;
  readonly #periodMs: number;
  /** The last MAC computed: `mint` right after a failed `check` of the same source reuses it. */
  #last: { period: number; addr: Uint8Array; mac: Uint8Array } = {
    period: -1,
    addr: new Uint8Array(0),
    mac: new Uint8Array(0),
  };

  constructor(options: CookieMinterOptions) {
    if (!(options.secret instanceof Uint8Array) || options.secret.length < 16) {
      throw new RangeError(
        `Invalid cookie secret: expected at least 16 bytes, got ${
          options.secret instanceof Uint8Array ? options.secret.length : typeof options.secret
        }`,
      );
    }
    const periodMs = options.periodMs ?? COOKIE_PERIOD_MS;
    if (!Number.isFinite(periodMs) || periodMs <= 0) {
      throw new RangeError(`Invalid cookie periodMs ${periodMs}: expected a positive number`);
    }
    this.#keyed = new ShortHmac(options.secret);
    this.#now = options.now;
    this.#periodMs = periodMs;
  }

  /** The cookie for `source` in the current period. @throws {TypeError} for a non-IPv4 source. */
  mint(source: Deno.NetAddr): Uint8Array {
    return this.#mac(this.#period(), encodeAddr(source)).slice();
  }

  /** Whether `cookie` was minted for `source` in this period or the previous one. */
  check(cookie: Uint8Array | undefined, source: Deno.NetAddr): CookieCheck {
    if (cookie === undefined || cookie.length !== COOKIE_SIZE) return "invalid";
    const addr = encodeAddr(source);
    const period = this.#period();
    if (equalMacs(cookie, this.#mac(period, addr))) return "current";
    if (equalMacs(cookie, this.#mac(period - 1, addr))) return "previous";
    return "invalid";
  }

  #period(): number {
    return Math.floor(this.#now() / this.#periodMs) >>> 0;
  }

  #mac(period: number, addr: Uint8Array): Uint8Array {
    const last = this.#last;
    if (last.period === period && equalMacs(last.addr, addr)) return last.mac;
    const input = new Uint8Array(4 + addr.length);
    new DataView(input.buffer).setUint32(0, period >>> 0);
    input.set(addr, 4);
    const mac = this.#keyed.mac(input).slice(0, COOKIE_SIZE);
    // Cache the current period's only: a check tries it first, and a mint wants it.
    if (period === this.#period()) this.#last = { period, addr, mac };
    return mac;
  }
}

/** Byte equality in time that depends on the length only. */
function equalMacs(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}
