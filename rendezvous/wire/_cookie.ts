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
import { IPV4_ADDR_SIZE, IPV6_ADDR_SIZE, MAX_ADDR_SIZE, writeAddr } from "./_addr.ts";
import { ShortHmac } from "./_hmac.ts";
import { COOKIE_PERIOD_MS, COOKIE_SIZE } from "./_wire.ts";

/** Length of the server's cookie secret. */
export const COOKIE_SECRET_SIZE = 32;
export { COOKIE_PERIOD_MS };

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
  /** The MAC input, `period | address`, rewritten in place for every cookie: no allocation. */
  readonly #input = new Uint8Array(4 + MAX_ADDR_SIZE);
  /** `#input` as long as it is with an IPv4 and with an IPv6 address. */
  readonly #v4Input = this.#input.subarray(0, 4 + IPV4_ADDR_SIZE);
  readonly #v6Input = this.#input.subarray(0, 4 + IPV6_ADDR_SIZE);

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

  /** The cookie for `source` in the current period. @throws {TypeError} for a non-IP source. */
  mint(source: Deno.NetAddr): Uint8Array {
    return this.#mac(this.#period(), this.#address(source)).slice(0, COOKIE_SIZE);
  }

  /** Whether `cookie` was minted for `source` in this period or the previous one. */
  check(cookie: Uint8Array | undefined, source: Deno.NetAddr): CookieCheck {
    if (cookie === undefined || cookie.length !== COOKIE_SIZE) return "invalid";
    const input = this.#address(source);
    const period = this.#period();
    if (equalMacs(cookie, this.#mac(period, input))) return "current";
    if (equalMacs(cookie, this.#mac(period - 1, input))) return "previous";
    return "invalid";
  }

  #period(): number {
    return Math.floor(this.#now() / this.#periodMs) >>> 0;
  }

  /** Writes `source` into the MAC input; returns the input (its period is written by `#mac`). */
  #address(source: Deno.NetAddr): Uint8Array {
    return writeAddr(this.#input, 4, source) === IPV4_ADDR_SIZE ? this.#v4Input : this.#v6Input;
  }

  /** The MAC of `period | address` (in a buffer the next MAC overwrites). */
  #mac(period: number, input: Uint8Array): Uint8Array {
    input[0] = period >>> 24;
    input[1] = period >>> 16;
    input[2] = period >>> 8;
    input[3] = period;
    return this.#keyed.mac(input);
  }
}

/** Whether `cookie` is the first {@link COOKIE_SIZE} bytes of `mac`, in time that does not depend on where they differ. */
function equalMacs(cookie: Uint8Array, mac: Uint8Array): boolean {
  let difference = 0;
  for (let i = 0; i < COOKIE_SIZE; i++) difference |= cookie[i] ^ mac[i];
  return difference === 0;
}
