/**
 * Keys the room table remembers for a while after a room is gone, each for
 * `lifetimeMs` from when it was last added, at most `max` at once (the oldest
 * goes first): a sender whose room outlived its wait, a nameplate whose sender
 * serves its next receiver soon. Insertion order is time order, so a sweep
 * stops at the first key still in its time.
 */
export class FadingKeys<K> {
  readonly #at = new Map<K, number>();

  constructor(readonly lifetimeMs: number, readonly max: number) {}

  add(key: K, now: number): void {
    this.#at.delete(key);
    if (this.#at.size >= this.max) this.#at.delete(this.#at.keys().next().value!);
    this.#at.set(key, now);
  }

  has(key: K, now: number): boolean {
    const at = this.#at.get(key);
    return at !== undefined && now - at < this.lifetimeMs;
  }

  delete(key: K): void {
    this.#at.delete(key);
  }

  /** Forgets the keys whose time is up. */
  sweep(now: number): void {
    // Runs on every registration, and the map is empty most of the time: no iterator then.
    if (this.#at.size === 0) return;
    for (const [key, at] of this.#at) {
      if (now - at < this.lifetimeMs) break;
      this.#at.delete(key);
    }
  }
}
