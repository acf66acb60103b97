/** A Prometheus-style histogram of durations: cumulative buckets, a sum and a count. */
const BUCKETS_SECONDS = [
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
];

export class LatencyHistogram {
  readonly #counts = new Array<number>(BUCKETS_SECONDS.length).fill(0);
  #sum = 0;
  #count = 0;

  observe(ms: number): void {
    const seconds = ms / 1000;
    this.#sum += seconds;
    this.#count++;
    const index = BUCKETS_SECONDS.findIndex((bound) => seconds <= bound);
    if (index >= 0) this.#counts[index]++;
  }

  get count(): number {
    return this.#count;
  }

  /** The histogram's lines in Prometheus text format, for metric `name`. */
  lines(name: string): string[] {
    const out: string[] = [];
    let cumulative = 0;
    BUCKETS_SECONDS.forEach((bound, index) => {
      cumulative += this.#counts[index];
      out.push(`${name}_bucket{le="${bound}"} ${cumulative}`);
    });
    out.push(`${name}_bucket{le="+Inf"} ${this.#count}`);
    out.push(`${name}_sum ${this.#sum}`);
    out.push(`${name}_count ${this.#count}`);
    return out;
  }
}
