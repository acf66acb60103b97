/**
 * The streams the peer opens, from the first connection and from every lane,
 * in the order they arrive. A lane that ends just stops contributing; the
 * first connection's end is the link's.
 */
import type { ByteStream } from "../../transfer/mod.ts";

type Reader = ReadableStreamDefaultReader<ByteStream>;
type Arrival = { reader: Reader; result?: ReadableStreamReadResult<ByteStream>; error?: unknown };

export class StreamInbox {
  readonly #first: Reader;
  /** Each source with its read in flight, if any: a read that lost a race keeps its stream. */
  readonly #reads = new Map<Reader, Promise<Arrival> | undefined>();
  #added = Promise.withResolvers<void>();

  constructor(first: Deno.QuicConn) {
    this.#first = first.incomingBidirectionalStreams.getReader();
    this.#reads.set(this.#first, undefined);
  }

  /** Takes the streams `lane` brings from now on. */
  add(lane: Deno.QuicConn): void {
    this.#reads.set(lane.incomingBidirectionalStreams.getReader(), undefined);
    this.#added.resolve();
    this.#added = Promise.withResolvers();
  }

  /** The next stream from any connection; `done` (or a throw) once the first connection ended. */
  async next(): Promise<ReadableStreamReadResult<ByteStream>> {
    while (true) {
      for (const [reader, read] of this.#reads) {
        if (read) continue;
        this.#reads.set(
          reader,
          reader.read().then((result) => ({ reader, result }), (error) => ({ reader, error })),
        );
      }
      const arrival = await Promise.race([
        ...this.#reads.values() as Iterable<Promise<Arrival>>,
        this.#added.promise.then(() => undefined),
      ]);
      if (!arrival) continue;
      const { reader, result, error } = arrival;
      this.#reads.set(reader, undefined);
      if (reader === this.#first) {
        if (error !== undefined) throw error;
        return result!;
      }
      if (error !== undefined || result!.done) {
        this.#reads.delete(reader);
        continue;
      }
      return result!;
    }
  }

  /** Lets go of every connection's stream of incoming streams. */
  release(): void {
    for (const reader of this.#reads.keys()) reader.releaseLock();
    this.#reads.clear();
  }
}
