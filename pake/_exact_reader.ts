/**
 * Reads exact byte counts from a ReadableStream without consuming more than
 * asked, so the stream can be handed on after the handshake.
 *
 * - Byte streams (`type: "bytes"`, such as Deno's QUIC streams) are read with a
 *   BYOB reader into views of exactly the missing size: nothing beyond the last
 *   requested byte ever leaves the stream, and {@link ExactReader.release}
 *   returns the original stream, unlocked.
 * - Other streams only offer whole chunks. Bytes of a chunk past the last
 *   requested byte are kept, and `release()` returns a new stream that yields
 *   them first and then the rest of the original (which stays locked to it).
 *
 * @module
 */
import { ConnectionLostError, ProtocolError } from "../errors.ts";

const EMPTY = new Uint8Array(0);

/** Exact-length reader over a ReadableStream<Uint8Array>; see the module doc. */
export class ExactReader {
  #readable: ReadableStream<Uint8Array>;
  #byob: ReadableStreamBYOBReader | undefined;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #leftover: Uint8Array = EMPTY;
  #released = false;

  constructor(readable: ReadableStream<Uint8Array>) {
    this.#readable = readable;
    try {
      this.#byob = readable.getReader({ mode: "byob" });
    } catch (error) {
      // A locked stream fails either way: report that, not the BYOB refusal.
      if (readable.locked) throw error;
      this.#reader = readable.getReader();
    }
  }

  /**
   * Reads exactly `length` bytes. A stream that ends first or fails is a
   * ProtocolError naming `what`; an abort rejects with `signal.reason`.
   */
  async read(length: number, what: string, signal?: AbortSignal): Promise<Uint8Array> {
    let out: Uint8Array = new Uint8Array(length);
    let filled = 0;
    if (this.#leftover.length > 0) {
      const take = Math.min(length, this.#leftover.length);
      out.set(this.#leftover.subarray(0, take));
      this.#leftover = this.#leftover.subarray(take);
      filled = take;
    }
    while (filled < length) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        if (this.#byob !== undefined) {
          const view = new Uint8Array(out.buffer, filled, length - filled);
          result = await abortable(this.#byob.read(view), signal);
        } else {
          result = await abortable(this.#reader!.read(), signal);
        }
      } catch (error) {
        if (signal?.aborted && error === signal.reason) throw error;
        throw new ConnectionLostError(
          `Cannot read PAKE ${what}: the stream failed after ${filled} of ${length} bytes: ${
            messageOf(error)
          }`,
          { cause: error },
        );
      }
      if (this.#byob !== undefined) {
        // The BYOB read transferred our buffer: keep the returned one.
        if (result.value !== undefined) out = new Uint8Array(result.value.buffer, 0, length);
        filled += result.value?.byteLength ?? 0;
      } else if (result.value !== undefined) {
        const take = Math.min(length - filled, result.value.length);
        out.set(result.value.subarray(0, take), filled);
        this.#leftover = result.value.subarray(take);
        filled += take;
      }
      if (result.done && filled < length) {
        throw new ProtocolError(
          `Cannot read PAKE ${what}: the peer closed the stream after ${filled} of ${length} bytes`,
        );
      }
    }
    return out;
  }

  /** Releases the lock after a failure, dropping any over-read bytes. Idempotent. */
  abandon(): void {
    if (this.#released) return;
    this.#released = true;
    this.#leftover = EMPTY;
    (this.#byob ?? this.#reader!).releaseLock();
  }

  /**
   * Gives the stream back: the original (unlocked) when nothing was over-read,
   * else a stream that replays the extra bytes first. Idempotent.
   */
  release(): ReadableStream<Uint8Array> {
    if (this.#released) return this.#readable;
    this.#released = true;
    if (this.#byob !== undefined) {
      this.#byob.releaseLock();
      return this.#readable;
    }
    const reader = this.#reader!;
    if (this.#leftover.length === 0) {
      reader.releaseLock();
      return this.#readable;
    }
    const leftover = this.#leftover;
    this.#leftover = EMPTY;
    this.#readable = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(leftover);
      },
      async pull(controller) {
        const { value, done } = await reader.read();
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

/** Settles like `promise`, or rejects with `signal.reason` as soon as it aborts. */
export function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {});
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** The message of an unknown thrown value, for one-line error messages. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
