/**
 * One token bucket: `ratePerSecond` tokens a second, never more than `burst`
 * held. Pure: the caller passes the clock (milliseconds) to every call. The
 * admission limiter counts requests with it, the relays count bytes.
 */
export class TokenBucket {
  readonly #perMs: number;
  readonly #burst: number;
  #tokens: number;
  #updated: number;

  /** Starts full at time `now`. @throws {RangeError} as `checkBucket` does. */
  constructor(ratePerSecond: number, burst: number, now: number) {
    checkBucket(ratePerSecond, burst);
    this.#perMs = ratePerSecond / 1000;
    this.#burst = burst;
    this.#tokens = burst;
    this.#updated = now;
  }

  /** Takes `n` tokens if the bucket holds them at `now`; false (and nothing taken) if not. */
  take(n: number, now: number): boolean {
    this.#refill(now);
    if (this.#tokens < n) return false;
    this.#tokens -= n;
    return true;
  }

  /**
   * Takes `n` tokens at `now` even into debt (what was read is already
   * read), and returns how many milliseconds until the debt is paid (0 when none).
   */
  spend(n: number, now: number): number {
    this.#refill(now);
    this.#tokens -= n;
    return this.#tokens < 0 ? -this.#tokens / this.#perMs : 0;
  }

  /** Whether the bucket is full at `now`: forgetting it then loses nothing. */
  full(now: number): boolean {
    return this.#tokens + Math.max(0, now - this.#updated) * this.#perMs >= this.#burst;
  }

  #refill(now: number): void {
    const tokens = this.#tokens + Math.max(0, now - this.#updated) * this.#perMs;
    this.#tokens = tokens < this.#burst ? tokens : this.#burst;
    this.#updated = now;
  }
}

/** @throws {RangeError} for a rate or a burst that is not a positive finite number. */
export function checkBucket(ratePerSecond: number, burst: number): void {
  for (const [name, value] of [["ratePerSecond", ratePerSecond], ["burst", burst]] as const) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new RangeError(`Invalid ${name} ${value}: expected a positive number`);
    }
  }
}
