/**
 * The one exact-length reader: every framing layer reads through it (PAKE
 * frames, transfer frames, data segments). Reads exactly n bytes, the next
 * 1..max bytes without a copy, or fills the caller's buffer.
 *
 * It reads one of two sources:
 * - a `ReadableStream` (QUIC streams, in-memory pairs). With `exact`, a byte
 *   stream is read with a BYOB reader into views of exactly the missing size,
 *   so nothing past the last requested byte leaves it and the original stream
 *   comes back unlocked from {@link ByteReader.release}; otherwise bytes of a
 *   chunk past the last one asked for stay buffered and come first in the
 *   stream `release()` returns, so a stream can change owners after a
 *   handshake.
 * - an {@link InPlaceSource}, which reads into the caller's buffer (a TLS
 *   connection: one record per read). Each read is one call on it, with no
 *   stream machinery, chunk or copy, and the caller's buffer is never
 *   detached, so what a failed `readInto` already filled stays usable (see its
 *   `progress`). This is the receiver's data path over TLS.
 *
 * Early end of stream is `options.ended` (ProtocolError by default: the peer
 * sent too little); a source that fails (reset, connection lost) is
 * `options.failure` (ProtocolError by default); an abort of `options.signal`
 * cancels the source and rejects with its reason.
 *
 * Under the in-place reads is {@link fillFrom}, the one in-place fill loop,
 * which framing uses alone where a frame must tell an end before its first byte
 * from one inside it (TCP framing, the TLS preface).
 *
 * @module
 */
import { abortable } from "./async.ts";
import { ProtocolError } from "./errors.ts";

const EMPTY = new Uint8Array(0);

type ErrorClass = new (message: string, options?: ErrorOptions) => Error;

/** A source that reads into the caller's buffer in place (`Deno.Conn` reads so). */
export interface InPlaceSource extends ReadsInto {
  /** Stops the source: must end a read in flight. */
  cancel(reason?: unknown): Promise<void>;
}

export interface ByteReaderOptions {
  /** What the stream carries, for error messages ("control stream from sender"). */
  what: string;
  signal?: AbortSignal;
  /** The error class for a failed (not ended) stream. */
  failure?: ErrorClass;
  /** The error class for a stream that ends inside a read (a TLS connection cut mid-frame). */
  ended?: ErrorClass;
  /** Never take more bytes from a byte stream than asked for (an in-place source never does). */
  exact?: boolean;
}

export class ByteReader {
  /** The stream read, or handed back by `release()`; null for an in-place source until then. */
  #readable: ReadableStream<Uint8Array> | null;
  #reader: ReadableStreamDefaultReader<Uint8Array> | ViewReader;
  /** Reads go into a view the reader passes (a BYOB reader, or an in-place source). */
  #intoView: boolean;
  /** An in-place source, read by `readInto` straight into the caller's buffer. */
  #inPlace: InPlaceSource | null;
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

  constructor(source: ReadableStream<Uint8Array> | InPlaceSource, options: ByteReaderOptions) {
    if (source instanceof ReadableStream) {
      this.#readable = source;
      this.#inPlace = null;
      this.#reader = options.exact ? byobReader(source) : source.getReader();
    } else {
      this.#readable = null;
      this.#inPlace = source;
      this.#reader = inPlaceReader(source);
    }
    this.#intoView = this.#inPlace !== null || this.#reader instanceof ReadableStreamBYOBReader;
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
    if (!this.#intoView) return (this.#reader as ReadableStreamDefaultReader<Uint8Array>).read();
    return (this.#reader as ViewReader).read(new Uint8Array(size));
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
   * Fills all of `target` and returns it filled. From an in-place source the
   * bytes are read straight into it. From a byte stream (`exact`) too, which
   * hands its memory to the stream and back: use the returned view, `target`
   * is detached. Otherwise one copy. `progress.filled` counts the bytes in
   * `target`, valid even when the read fails; bytes read straight into a byte
   * stream's buffer are not counted (a failed read keeps that buffer).
   */
  async readInto(
    target: Uint8Array,
    what = this.#what,
    progress: ReadProgress = { filled: 0 },
  ): Promise<Uint8Array> {
    let filled = 0;
    progress.filled = 0;
    while (filled < target.length) {
      if (this.#inPlace && this.#offset >= this.#chunk.length) {
        progress.filled = filled;
        return await this.#fillInPlace(this.#inPlace, target, what, progress);
      }
      if (this.#intoView && this.#offset >= this.#chunk.length) {
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

  /** Fills `target` from `progress.filled` on, in place, one source read per call. */
  async #fillInPlace(
    source: InPlaceSource,
    target: Uint8Array,
    what: string,
    progress: ReadProgress,
  ): Promise<Uint8Array> {
    const checked = {
      read: (view: Uint8Array) => {
        this.#signal?.throwIfAborted();
        return source.read(view);
      },
    };
    try {
      await fillFrom(checked, target, { progress });
    } catch (error) {
      throw this.#readFailure(error, what, progress.filled, target.length);
    }
    if (progress.filled < target.length) {
      throw new this.#ended(
        `Cannot read ${what}: stream ended after ${progress.filled} of ${target.length} bytes`,
      );
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
   * Gives the source back as a stream: the original (unlocked) when nothing is
   * buffered, else a stream that yields the buffered bytes first. Idempotent.
   */
  release(): ReadableStream<Uint8Array> {
    if (this.#released && this.#readable) return this.#readable;
    this.#released = true;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    const reader = this.#reader;
    const leftover = this.#chunk.subarray(this.#offset);
    this.#chunk = EMPTY;
    if (leftover.length === 0 && this.#readable) {
      reader.releaseLock();
      return this.#readable;
    }
    const read = () => this.#read(16_384);
    this.#readable = new ReadableStream<Uint8Array>({
      start(controller) {
        if (leftover.length > 0) controller.enqueue(leftover);
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

/** Reads into a view it is given: a BYOB reader, or an in-place source ({@link inPlaceReader}). */
interface ViewReader {
  read(view: Uint8Array): Promise<ReadableStreamReadResult<Uint8Array>>;
  cancel(reason?: unknown): Promise<void>;
  releaseLock(): void;
}

/** An in-place source read for chunks as a BYOB reader is; cancels it once. */
function inPlaceReader(source: InPlaceSource): ViewReader {
  let cancelled: Promise<void> | undefined;
  return {
    async read(view) {
      const n = await source.read(view);
      return n === null
        ? { done: true, value: view.subarray(0, 0) }
        : { done: false, value: view.subarray(0, n) };
    },
    cancel: (reason) => cancelled ??= source.cancel(reason),
    releaseLock() {},
  };
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

/** What {@link fillFrom} reads from: `Deno.Conn` has it. */
export interface ReadsInto {
  read(buffer: Uint8Array): Promise<number | null>;
}

export interface FillOptions {
  /** Runs once the first byte arrived. */
  onFirstByte?: () => void;
  /** Where to start (`filled`), and how far it got: kept up to date, so a failed read tells. */
  progress?: ReadProgress;
}

/**
 * The one in-place fill loop: fills `buffer` from `source`, reading nothing
 * past its end (the bytes after stay in the socket for the next reader: a TLS
 * handshake, a splice). Returns how many bytes it filled: `buffer.length`, or
 * fewer when the source ended first (0: before the first byte). A failing
 * read rejects as the source does.
 */
export async function fillFrom(
  source: ReadsInto,
  buffer: Uint8Array,
  options: FillOptions = {},
): Promise<number> {
  const progress = options.progress ?? { filled: 0 };
  while (progress.filled < buffer.length) {
    const n = await source.read(buffer.subarray(progress.filled));
    if (n === null) break;
    if (progress.filled === 0 && n > 0) options.onFirstByte?.();
    progress.filled += n;
  }
  return progress.filled;
}
