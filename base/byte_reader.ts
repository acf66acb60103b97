/**
 * The exact-length reader every framing layer reads through (PAKE frames,
 * transfer frames): read exactly n bytes, or the next 1..max bytes without a
 * copy. {@link ByteReader.release} hands the stream on, so it can change
 * owners after a handshake: with `exact`, a byte stream (such as Deno's QUIC
 * streams) is read with a BYOB reader into views of exactly the missing size,
 * so nothing past the last requested byte leaves it and the original stream
 * comes back unlocked; otherwise bytes of a chunk past the last one asked for
 * stay buffered and come first in the stream `release()` returns.
 *
 * Early end of stream is `options.ended` (ProtocolError by default: the peer
 * sent too little); a stream that fails (reset, connection lost) is
 * `options.failure` (ProtocolError by default); an abort of `options.signal`
 * cancels the stream and rejects with its reason.
 *
 * For a source that reads into the caller's buffer (`Deno.Conn`), the same job
 * is conn_reader.ts (`ConnReader`, and `fillFrom` under it).
 *
 * @module
 */
import { abortable } from "./async.ts";
import { ProtocolError } from "./errors.ts";

const EMPTY = new Uint8Array(0);

type ErrorClass = new (message: string, options?: ErrorOptions) => Error;

export interface ByteReaderOptions {
  /** What the stream carries, for error messages ("control stream from sender"). */
  what: string;
  signal?: AbortSignal;
  /** The error class for a failed (not ended) stream. */
  failure?: ErrorClass;
  /** The error class for a stream that ends inside a read (a TLS connection cut mid-frame). */
  ended?: ErrorClass;
  /** Never take more bytes from a byte stream than asked for (see the module doc). */
  exact?: boolean;
}

export class ByteReader {
  #readable: ReadableStream<Uint8Array>;
  #reader: ReadableStreamDefaultReader<Uint8Array> | ReadableStreamBYOBReader;
  #byob = false;
  #chunk: Uint8Array = EMPTY;
  #offset = 0;
  #what: string;
  #signal?: AbortSignal;
  #failure: ErrorClass;
  #ended: ErrorClass;
  #released = false;
  #onAbort = () => {
    this.#reader.cancel(this.#signal?.reason).catch(() => {});
  };

  constructor(readable: ReadableStream<Uint8Array>, options: ByteReaderOptions) {
    this.#readable = readable;
    this.#reader = options.exact ? byobReader(readable) : readable.getReader();
    this.#byob = this.#reader instanceof ReadableStreamBYOBReader;
    this.#what = options.what;
    this.#failure = options.failure ?? ProtocolError;
    this.#ended = options.ended ?? ProtocolError;
    this.#signal = options.signal;
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Loads the next chunk when the current one is used up; false at the end of the stream. */
  async #fill(what: string, filled: number, length: number): Promise<boolean> {
    while (this.#offset >= this.#chunk.length) {
      this.#signal?.throwIfAborted();
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await abortable(this.#read(Math.max(1, length - filled)), this.#signal);
      } catch (error) {
        throw this.#readFailure(error, what, filled, length);
      }
      if (result.done) return false;
      this.#chunk = result.value;
      this.#offset = 0;
    }
    return true;
  }

  /** The error for a read that failed after `filled` of `length` bytes (the abort reason when aborted). */
  #readFailure(error: unknown, what: string, filled: number, length: number): Error {
    this.#signal?.throwIfAborted();
    return new this.#failure(
      `Cannot read ${what}: the stream failed after ${filled} of ${length} bytes (${
        error instanceof Error ? error.message : String(error)
      })`,
      { cause: error },
    );
  }

  #read(size: number): Promise<ReadableStreamReadResult<Uint8Array>> {
    if (!this.#byob) return (this.#reader as ReadableStreamDefaultReader<Uint8Array>).read();
    return (this.#reader as ReadableStreamBYOBReader).read(new Uint8Array(size));
  }

  /** True at a clean end of stream (no byte left). */
  async atEnd(): Promise<boolean> {
    return !(await this.#fill(this.#what, 0, 0));
  }

  /** Reads exactly `n` bytes (copies only when they span chunks). */
  async readExact(n: number, what = this.#what): Promise<Uint8Array> {
    if (n === 0) return EMPTY;
    if (!(await this.#fill(what, 0, n))) {
      throw new this.#ended(`Cannot read ${what}: stream ended, expected ${n} more bytes`);
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
      if (!(await this.#fill(what, filled, n))) {
        throw new this.#ended(`Cannot read ${what}: stream ended after ${filled} of ${n} bytes`);
      }
      const take = Math.min(n - filled, this.#chunk.length - this.#offset);
      out.set(this.#chunk.subarray(this.#offset, this.#offset + take), filled);
      this.#offset += take;
      filled += take;
    }
    return out;
  }

  /**
   * Fills all of `target` and returns it filled. From a byte stream (`exact`)
   * the bytes are read straight into it, which hands its memory to the stream
   * and back: use the returned view, `target` is detached. Otherwise one copy.
   * `progress.filled` counts the bytes copied into `target`, valid even when
   * the read fails; bytes read straight into a byte stream's buffer are not
   * counted (a failed read keeps that buffer).
   */
  async readInto(
    target: Uint8Array,
    what = this.#what,
    progress: ReadProgress = { filled: 0 },
  ): Promise<Uint8Array> {
    let filled = 0;
    progress.filled = 0;
    while (filled < target.length) {
      if (this.#byob && this.#offset >= this.#chunk.length) {
        progress.filled = 0;
        target = await this.#readStraightInto(target, filled, what);
        filled = target.length;
        continue;
      }
      if (!(await this.#fill(what, filled, target.length))) {
        throw new this.#ended(
          `Cannot read ${what}: stream ended after ${filled} of ${target.length} bytes`,
        );
      }
      const take = Math.min(target.length - filled, this.#chunk.length - this.#offset);
      target.set(this.#chunk.subarray(this.#offset, this.#offset + take), filled);
      this.#offset += take;
      filled += take;
      progress.filled = filled;
    }
    return target;
  }

  /** BYOB reads into `target` from `filled` on; returns `target` whole, on its new buffer. */
  async #readStraightInto(target: Uint8Array, filled: number, what: string): Promise<Uint8Array> {
    const reader = this.#reader as ReadableStreamBYOBReader;
    const { byteOffset, length } = target;
    let buffer = target.buffer as ArrayBuffer;
    while (filled < length) {
      // No abortable() per read: an abort cancels the reader, which ends this read.
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read(new Uint8Array(buffer, byteOffset + filled, length - filled));
      } catch (error) {
        throw this.#readFailure(error, what, filled, length);
      }
      this.#signal?.throwIfAborted();
      if (result.value) {
        buffer = result.value.buffer as ArrayBuffer;
        filled += result.value.length;
      }
      if (result.done && filled < length) {
        throw new this.#ended(
          `Cannot read ${what}: stream ended after ${filled} of ${length} bytes`,
        );
      }
    }
    return new Uint8Array(buffer, byteOffset, length);
  }

  /** Returns the next 1..max available bytes without copying. */
  async readChunk(max: number): Promise<Uint8Array> {
    if (!(await this.#fill(this.#what, 0, max))) {
      throw new this.#ended(
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
    this.#released = true;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    await this.#reader.cancel(reason).catch(() => {});
  }

  /** Releases the lock after a failure, dropping any buffered bytes. Idempotent. */
  abandon(): void {
    if (this.#released) return;
    this.#released = true;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#chunk = EMPTY;
    this.#reader.releaseLock();
  }

  /**
   * Gives the stream back: the original (unlocked) when nothing is buffered,
   * else a stream that yields the buffered bytes first. Idempotent.
   */
  release(): ReadableStream<Uint8Array> {
    if (this.#released) return this.#readable;
    this.#released = true;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    const reader = this.#reader;
    const leftover = this.#chunk.subarray(this.#offset);
    this.#chunk = EMPTY;
    if (leftover.length === 0) {
      reader.releaseLock();
      return this.#readable;
    }
    const read = () => this.#read(16_384);
    this.#readable = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(leftover);
      },
      async pull(controller) {
        const { value, done } = await read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
    return this.#readable;
  }
}

/** A BYOB reader when the stream is a byte stream, else a default reader. */
function byobReader(
  readable: ReadableStream<Uint8Array>,
): ReadableStreamBYOBReader | ReadableStreamDefaultReader<Uint8Array> {
  try {
    return readable.getReader({ mode: "byob" });
  } catch (error) {
    // A locked stream fails either way: report that, not the BYOB refusal.
    if (readable.locked) throw error;
    return readable.getReader();
  }
}

/** How far a `readInto` got: its first `filled` bytes are valid even when it fails. */
export interface ReadProgress {
  filled: number;
}
