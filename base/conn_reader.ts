/**
 * The exact-length reader for a source that reads into the caller's buffer in
 * place (a TLS connection), the fast twin of {@link ByteReader} for bulk data:
 * each read is one call on the connection, with no stream machinery, chunk or
 * copy per read, and the caller's buffer is never detached, so what a failed
 * read already filled stays usable (see `readInto`'s `progress`). Its loop is
 * {@link fillFrom}, which framing uses alone where a frame must tell an end
 * before its first byte from one inside it (TCP framing, the TLS preface).
 *
 * @module
 */
import { ProtocolError } from "./errors.ts";
import type { ReadProgress } from "./byte_reader.ts";

type ErrorClass = new (message: string, options?: ErrorOptions) => Error;

export interface ConnReaderOptions {
  /** What the source carries, for error messages ("data stream"). */
  what: string;
  /** Aborting it calls `cancel` (which must end a read in flight) and fails the reads. */
  signal?: AbortSignal;
  /** Stops the source: ends a read in flight. */
  cancel: (reason?: unknown) => Promise<void>;
  /** The error class for a failed (not ended) source. */
  failure?: ErrorClass;
  /** The error class for a source that ends inside a read. */
  ended?: ErrorClass;
}

export class ConnReader {
  #source: ReadsInto;
  #options: ConnReaderOptions;
  /** One byte read ahead by `atEnd`, handed out first. */
  #held: number | null = null;
  #cancelled = false;
  #onAbort = () => this.cancel(this.#options.signal?.reason);

  constructor(source: ReadsInto, options: ConnReaderOptions) {
    this.#source = source;
    this.#options = options;
    options.signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** True at a clean end of the source (no byte left). */
  async atEnd(): Promise<boolean> {
    if (this.#held !== null) return false;
    const one = new Uint8Array(1);
    if ((await this.#read(one, 0, 1)) === null) return true;
    this.#held = one[0];
    return false;
  }

  /** Reads exactly `n` bytes into a new buffer. */
  async readExact(n: number, what = this.#options.what): Promise<Uint8Array> {
    return await this.readInto(new Uint8Array(n), what);
  }

  /**
   * Fills all of `target` in place and returns it. `progress.filled` counts
   * the bytes filled so far, so a caller whose read failed knows what it got.
   */
  async readInto(
    target: Uint8Array,
    what = this.#options.what,
    progress: ReadProgress = { filled: 0 },
  ): Promise<Uint8Array> {
    progress.filled = 0;
    if (target.length > 0 && this.#held !== null) {
      target[0] = this.#held;
      this.#held = null;
      progress.filled = 1;
    }
    const source = { read: (view: Uint8Array) => this.#read(view, progress.filled, target.length) };
    if ((await fillFrom(source, target, { progress })) < target.length) {
      const Ended = this.#options.ended ?? ProtocolError;
      throw new Ended(
        `Cannot read ${what}: stream ended after ${progress.filled} of ${target.length} bytes`,
      );
    }
    return target;
  }

  /** Stops reading: ends a read in flight. Idempotent. */
  async cancel(reason?: unknown): Promise<void> {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#options.signal?.removeEventListener("abort", this.#onAbort);
    await this.#options.cancel(reason).catch(() => {});
  }

  async #read(view: Uint8Array, filled: number, length: number): Promise<number | null> {
    this.#options.signal?.throwIfAborted();
    try {
      return await this.#source.read(view);
    } catch (error) {
      this.#options.signal?.throwIfAborted();
      const Failure = this.#options.failure ?? ProtocolError;
      throw new Failure(
        `Cannot read ${this.#options.what}: the stream failed after ${filled} of ${length} bytes (${
          error instanceof Error ? error.message : String(error)
        })`,
        { cause: error },
      );
    }
  }
}

/** What {@link fillFrom} and {@link ConnReader} read from: `Deno.Conn` has it. */
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
