import { ConnectionLostError, ProtocolError } from "../errors.ts";

/**
 * A small buffered reader over a `ReadableStream<Uint8Array>`: read exactly n
 * bytes (headers, control frames) or take the next available chunk without a
 * copy (bulk data). Reading past the end throws a `ProtocolError` (the peer
 * sent too little); a stream that breaks (reset, connection lost) throws a
 * `ConnectionLostError`; once the given signal aborted, its reason is thrown.
 */
export class ByteReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #chunk: Uint8Array = new Uint8Array(0);
  #offset = 0;
  #what: string;
  #signal?: AbortSignal;
  #onAbort = () => {
    this.#reader.cancel(this.#signal?.reason).catch(() => {});
  };

  constructor(
    readable: ReadableStream<Uint8Array>,
    options: { what: string; signal?: AbortSignal },
  ) {
    this.#reader = readable.getReader();
    this.#what = options.what;
    this.#signal = options.signal;
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Loads the next chunk when the current one is used up; false at the end of the stream. */
  async #fill(): Promise<boolean> {
    while (this.#offset >= this.#chunk.length) {
      this.#signal?.throwIfAborted();
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await this.#reader.read();
      } catch (error) {
        this.#signal?.throwIfAborted();
        throw new ConnectionLostError(`Cannot read ${this.#what}: the stream broke (${error})`, {
          cause: error,
        });
      }
      this.#signal?.throwIfAborted();
      if (result.done) return false;
      this.#chunk = result.value;
      this.#offset = 0;
    }
    return true;
  }

  /** True at a clean end of stream (no byte left). */
  async atEnd(): Promise<boolean> {
    return !(await this.#fill());
  }

  /** Reads exactly `n` bytes (copies only when they span chunks). */
  async readExact(n: number): Promise<Uint8Array> {
    if (!(await this.#fill())) {
      throw new ProtocolError(`Cannot read ${this.#what}: stream ended, expected ${n} more bytes`);
    }
    const available = this.#chunk.length - this.#offset;
    if (available >= n) {
      const out = this.#chunk.subarray(this.#offset, this.#offset + n);
      this.#offset += n;
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      if (!(await this.#fill())) {
        throw new ProtocolError(
          `Cannot read ${this.#what}: stream ended after ${filled} of ${n} bytes`,
        );
      }
      const take = Math.min(n - filled, this.#chunk.length - this.#offset);
      out.set(this.#chunk.subarray(this.#offset, this.#offset + take), filled);
      this.#offset += take;
      filled += take;
    }
    return out;
  }

  /** Returns the next 1..max available bytes without copying. */
  async readChunk(max: number): Promise<Uint8Array> {
    if (!(await this.#fill())) {
      throw new ProtocolError(
        `Cannot read ${this.#what}: stream ended, expected ${max} more bytes`,
      );
    }
    const take = Math.min(max, this.#chunk.length - this.#offset);
    const out = this.#chunk.subarray(this.#offset, this.#offset + take);
    this.#offset += take;
    return out;
  }

  /** Stops reading and cancels the underlying stream. */
  async cancel(reason?: unknown): Promise<void> {
    this.#signal?.removeEventListener("abort", this.#onAbort);
    await this.#reader.cancel(reason).catch(() => {});
  }

  /** Releases the lock without cancelling. */
  release(): void {
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#reader.releaseLock();
  }
}
