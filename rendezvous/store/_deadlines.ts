/**
 * Items by when they are next due, earliest first (a binary min-heap in two
 * parallel arrays: no object per entry). The room table asks it which rooms
 * may have expired, so a sweep looks at those rooms only, not at every room
 * held. Pure.
 */
export class Deadlines<T> {
  readonly #dues: number[] = [];
  readonly #items: T[] = [];

  get size(): number {
    return this.#dues.length;
  }

  /** The earliest due time, or Infinity when empty. */
  get next(): number {
    return this.#dues.length === 0 ? Infinity : this.#dues[0];
  }

  add(due: number, item: T): void {
    const dues = this.#dues;
    const items = this.#items;
    let at = dues.length;
    dues.push(due);
    items.push(item);
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (dues[parent] <= due) break;
      dues[at] = dues[parent];
      items[at] = items[parent];
      at = parent;
    }
    dues[at] = due;
    items[at] = item;
  }

  /** Removes and returns the earliest item (undefined when empty). */
  take(): T | undefined {
    const dues = this.#dues;
    const items = this.#items;
    if (dues.length === 0) return undefined;
    const first = items[0];
    const lastDue = dues.pop()!;
    const lastItem = items.pop()!;
    const size = dues.length;
    if (size === 0) return first;
    let at = 0;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= size) break;
      if (child + 1 < size && dues[child + 1] < dues[child]) child++;
      if (dues[child] >= lastDue) break;
      dues[at] = dues[child];
      items[at] = items[child];
      at = child;
    }
    dues[at] = lastDue;
    items[at] = lastItem;
    return first;
  }

  clear(): void {
    this.#dues.length = 0;
    this.#items.length = 0;
  }
}
