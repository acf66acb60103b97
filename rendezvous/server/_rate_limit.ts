/** Per-key token buckets with a bounded number of tracked keys. Pure; clock injected. */
import { checkBucket, TokenBucket } from "../relay/mod.ts";

export interface RateLimiterOptions {
  /** Tokens added per second. */
  ratePerSecond: number;
  /** Bucket size: how many datagrams a quiet source may send at once. */
  burst: number;
  /** Most keys tracked at once; when full, idle keys and then the oldest are dropped. */
  maxKeys: number;
  /** Milliseconds clock. */
  now: () => number;
}

export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string | number, TokenBucket>();

  constructor(options: RateLimiterOptions) {
    checkBucket(options.ratePerSecond, options.burst);
    if (!Number.isFinite(options.maxKeys) || options.maxKeys <= 0) {
      throw new RangeError(`Invalid maxKeys ${options.maxKeys}: expected a positive number`);
    }
    this.#rate = options.ratePerSecond;
    this.#burst = options.burst;
    this.#maxKeys = Math.floor(options.maxKeys);
    this.#now = options.now;
  }

  /** Number of keys currently tracked. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one token from `key`'s bucket at `now` (the limiter's clock); false when it is empty. */
  allow(key: string | number, now = this.#now()): boolean {
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxKeys) this.#evict(now);
      bucket = new TokenBucket(this.#rate, this.#burst, now);
      this.#buckets.set(key, bucket);
    }
    return bucket.take(1, now);
  }

  /**
   * Drops buckets that have refilled (forgetting them loses nothing), then the
   * oldest ones until 1/8 of the room is free, so a flood of new sources costs
   * amortized O(1) per datagram and memory stays bounded.
   */
  #evict(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.full(now)) this.#buckets.delete(key);
    }
    const target = this.#maxKeys - Math.max(1, Math.floor(this.#maxKeys / 8));
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size <= target) break;
      this.#buckets.delete(key);
    }
  }
}
