/**
 * Hands out the lowest free nameplate in O(log n). Numbers at or above
 * `#high` have never been handed out; freed numbers below it sit in a
 * min-heap. Numbers taken by custom codes are skipped lazily.
 */
export class NameplatePool {
  readonly #max: number;
  readonly #isTaken: (n: number) => boolean;
  #high = 1;
  readonly #heap: number[] = [];
  readonly #inHeap = new Set<number>();

  /** `isTaken(n)` tells whether a room currently holds nameplate `n`. */
  constructor(max: number, isTaken: (n: number) => boolean) {
    this.#max = max;
    this.#isTaken = isTaken;
  }

  /** The lowest nameplate not taken, or `undefined` when all are taken. */
  allocate(): number | undefined {
    while (this.#heap.length > 0) {
      const n = this.#pop();
      this.#inHeap.delete(n);
      if (!this.#isTaken(n)) return n;
    }
    while (this.#high <= this.#max && this.#isTaken(this.#high)) this.#high++;
    if (this.#high > this.#max) return undefined;
    return this.#high++;
  }

  /** Call after the room holding `n` is gone. */
  release(n: number): void {
    if (n < this.#high && !this.#inHeap.has(n)) {
      this.#inHeap.add(n);
      this.#push(n);
    }
  }

  #push(n: number): void {
    const heap = this.#heap;
    heap.push(n);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent] <= heap[i]) break;
      [heap[parent], heap[i]] = [heap[i], heap[parent]];
      i = parent;
    }
  }

  #pop(): number {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && heap[left] < heap[smallest]) smallest = left;
        if (right < heap.length && heap[right] < heap[smallest]) smallest = right;
        if (smallest === i) break;
        [heap[smallest], heap[i]] = [heap[i], heap[smallest]];
        i = smallest;
      }
    }
    return top;
  }
}
