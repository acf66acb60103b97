/**
 * Which decoded requests the server acts on. Over UDP a source must first
 * prove it receives at its address (it echoes a cookie, see `../wire/_cookie.ts`);
 * until then it gets only a cookie, out of one global budget, and costs no
 * per-source state. Proven sources, and TCP clients (whose handshake proved
 * the address), are rate-limited per ip:port and, with a larger budget, per
 * IP. Pure; clocks injected.
 */
import { CookieMinter } from "../wire/mod.ts";
import { RateLimiter } from "./_rate_limit.ts";
import { parseIpv4 } from "../../base/mod.ts";

export interface AdmissionOptions {
  /** The cookie MAC key; instances serving one address share it. */
  cookieSecret: Uint8Array;
  /** Requests per second one proven ip:port may make, and its burst. */
  ratePerSecond: number;
  burst: number;
  /** Requests per second one proven IP (all its ports) may make, and its burst. */
  ipRatePerSecond: number;
  ipBurst: number;
  /** Cookie answers per second to unproven sources, all together, and their burst. */
  cookieRatePerSecond: number;
  cookieBurst: number;
  /** Most sources tracked by each per-source limiter. */
  maxSources: number;
  /** The key of the per-IP budget: the IP, or (tests standing in many hosts) ip:port. */
  ipKey: (from: Deno.NetAddr) => string;
  /** Milliseconds clock for the buckets. */
  now: () => number;
  /** Wall-clock milliseconds for the cookie periods. */
  wallClock: () => number;
}

/**
 * `admit`: act on it. `cookie`: answer only with a fresh cookie (to an
 * unproven source, out of the global budget; or to a source proven by last
 * period's cookie, charged to its own budgets). `unproven`: no valid cookie
 * and no cookie budget left, or an unanswerable request. `rateLimited`: a
 * proven source over its budget.
 */
export type Verdict =
  | { kind: "admit" }
  | { kind: "cookie"; cookie: Uint8Array }
  | { kind: "unproven" }
  | { kind: "rateLimited" };

// The verdicts without data, one object each: a verdict per datagram costs no allocation.
const ADMIT: Verdict = Object.freeze({ kind: "admit" });
const UNPROVEN: Verdict = Object.freeze({ kind: "unproven" });
const RATE_LIMITED: Verdict = Object.freeze({ kind: "rateLimited" });

export class Admission {
  #minter: CookieMinter;
  readonly #wallClock: () => number;
  readonly #perPort: RateLimiter;
  readonly #perIp: RateLimiter;
  readonly #cookies: RateLimiter;
  readonly #ipKey: (from: Deno.NetAddr) => string;
  /** The buckets' clock, read once per request for both of its buckets. */
  readonly #now: () => number;

  constructor(options: AdmissionOptions) {
    this.#minter = new CookieMinter({ secret: options.cookieSecret, now: options.wallClock });
    this.#wallClock = options.wallClock;
    const { now, maxSources: maxKeys } = options;
    this.#perPort = new RateLimiter({
      ratePerSecond: options.ratePerSecond,
      burst: options.burst,
      maxKeys,
      now,
    });
    this.#perIp = new RateLimiter({
      ratePerSecond: options.ipRatePerSecond,
      burst: options.ipBurst,
      maxKeys,
      now,
    });
    this.#cookies = new RateLimiter({
      ratePerSecond: options.cookieRatePerSecond,
      burst: options.cookieBurst,
      maxKeys: 1,
      now,
    });
    this.#ipKey = options.ipKey;
    this.#now = now;
  }

  /**
   * Mints and checks cookies with `secret` from now on (the one instances on a
   * shared store agree on); cookies minted with the old secret become invalid.
   */
  useSecret(secret: Uint8Array): void {
    this.#minter = new CookieMinter({ secret, now: this.#wallClock });
  }

  /** Proven sources tracked now (ip:port buckets). */
  get sources(): number {
    return this.#perPort.size;
  }

  /**
   * Decides on one decoded request from `from`. `answerable`: the request is
   * padded for a reply (so a cookie answer is never larger than it); `tcp`:
   * it came over TCP, where the handshake already proved the source.
   */
  admit(
    cookie: Uint8Array | undefined,
    from: Deno.NetAddr,
    options: { answerable: boolean; tcp: boolean },
  ): Verdict {
    const proof = options.tcp ? "current" : this.#minter.check(cookie, from);
    if (proof === "invalid") {
      if (!options.answerable || !this.#cookies.allow("")) return UNPROVEN;
      return { kind: "cookie", cookie: this.#minter.mint(from) };
    }
    if (!this.#withinBudget(from)) return RATE_LIMITED;
    if (proof === "previous" && options.answerable) {
      return { kind: "cookie", cookie: this.#minter.mint(from) };
    }
    return ADMIT;
  }

  /** Takes a token from the source's ip:port bucket, then from its IP's. */
  #withinBudget(from: Deno.NetAddr): boolean {
    const now = this.#now();
    return this.#perPort.allow(portKey(from), now) && this.#perIp.allow(this.#ipKey(from), now);
  }
}

/**
 * The key of an ip:port budget: for IPv4 a number (hashed without building,
 * flattening and hashing a string per datagram), else the text.
 */
function portKey(from: Deno.NetAddr): string | number {
  const v4 = parseIpv4(from.hostname);
  return v4 >= 0 ? v4 * 65536 + from.port : `${from.hostname}:${from.port}`;
}
