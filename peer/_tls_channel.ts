/**
 * One TLS connection of the TLS link as a `ByteStream` whose two halves end
 * separately: closing the writable sends close_notify and FIN (the peer's
 * reads end) while this side keeps reading; the socket is released once both
 * halves are done. Deno's own `conn.readable`/`conn.writable` close the whole
 * connection when either half ends, which a bidirectional stream cannot use.
 */
import { Duplex } from "node:stream";
import { TLSSocket } from "node:tls";
import { ConnectionLostError, TimeoutError } from "../errors.ts";
import type { ByteStream } from "../transfer/mod.ts";

/** A connection of the link: its stream, and `close()` to drop it at once (idempotent). */
export interface Channel {
  stream: ByteStream;
  close(): void;
}

/** Read size of one socket read. */
const CHUNK = 64 * 1024;
/** Plaintext of one TLS record, which is what one Deno TLS read returns. */
const TLS_RECORD = 16 * 1024;
/** Ciphertext the relayed TLS server side may queue for its connection before writes wait. */
const TRANSPORT_HIGH_WATER = 1024 * 1024;
/** Bytes a node socket may buffer ahead of the reader before it is paused. */
const NODE_READ_HIGH_WATER = 256 * 1024;

/** A Deno TLS (or TCP) connection as a channel. Read errors become `ConnectionLostError`. */
export function denoChannel(conn: Deno.Conn, what: string): Channel {
  const halves = new Halves(() => {
    try {
      conn.close();
    } catch {
      // Already closed by a failed read or write.
    }
  });
  // A BYOB read (an exact read that must not take bytes past what it asked
  // for) reads into the caller's view; a default read gets a fresh buffer of
  // one TLS record. An auto-allocated BYOB request (autoAllocateChunkSize)
  // costs Deno 2.9.6 three times the throughput of enqueue(), measured here.
  const readable: ReadableStream<Uint8Array> = new ReadableStream({
    type: "bytes",
    async pull(controller: ReadableByteStreamController) {
      const request = controller.byobRequest;
      const view = request?.view;
      const target = view
        ? new Uint8Array(view.buffer, view.byteOffset, view.byteLength)
        : new Uint8Array(TLS_RECORD);
      let n: number | null;
      try {
        n = await conn.read(target);
      } catch (error) {
        halves.readDone();
        throw lost(`read from ${what}`, error);
      }
      if (n === null) {
        controller.close();
        request?.respond(0);
        halves.readDone();
      } else if (request) {
        request.respond(n);
      } else {
        controller.enqueue(target.subarray(0, n));
      }
    },
    cancel() {
      halves.readDone();
    },
  });
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      try {
        for (let offset = 0; offset < chunk.length;) {
          offset += await conn.write(chunk.subarray(offset));
        }
      } catch (error) {
        halves.close();
        throw lost(`write to ${what}`, error);
      }
    },
    async close() {
      try {
        await conn.closeWrite();
      } catch (error) {
        throw lost(`close ${what}`, error);
      } finally {
        halves.writeDone();
      }
    },
    abort() {
      halves.close();
    },
  });
  return { stream: { readable, writable }, close: () => halves.close() };
}

/**
 * The TLS server side on a connection this side dialled (the sender through
 * the relay): node's TLSSocket over `conn`, as a channel. Deno.startTls is
 * client-only.
 */
export function tlsServerChannel(
  conn: Deno.Conn,
  certificate: { certPem: string; keyPem: string },
  what: string,
): Channel {
  // Deno's TLSSocket never ends the stream it wraps: closing the writable
  // ends the TLS socket (close_notify), then the transport (FIN once every
  // queued write reached `conn`), and only then counts the write half done.
  const transport = duplexOver(conn);
  const socket = new TLSSocket(transport, {
    isServer: true,
    cert: certificate.certPem,
    key: certificate.keyPem,
  });
  const halves = new Halves(() => socket.destroy());
  transport.once("end", () => halves.readDone());
  let socketError: unknown;
  socket.on("error", (error) => socketError = error);
  let reading = true;
  const readable: ReadableStream<Uint8Array> = new ReadableStream({
    type: "bytes",
    start(controller: ReadableByteStreamController) {
      socket.on("data", (chunk: Uint8Array) => {
        if (!reading) return;
        // A copy: enqueue() transfers the buffer, and node pools small buffers.
        controller.enqueue(new Uint8Array(chunk));
        if ((controller.desiredSize ?? 0) <= 0) socket.pause();
      });
      socket.once("end", () => {
        if (!reading) return;
        reading = false;
        controller.close();
        controller.byobRequest?.respond(0);
      });
      socket.once("close", () => {
        halves.readDone();
        if (!reading) return;
        reading = false;
        controller.error(lost(`read from ${what}`, socketError ?? "the connection closed"));
      });
    },
    pull() {
      socket.resume();
    },
    cancel() {
      // Keep the socket flowing (data dropped) to see when the peer ends.
      reading = false;
      socket.resume();
    },
  }, { highWaterMark: NODE_READ_HIGH_WATER });
  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      return new Promise<void>((resolve, reject) => {
        const fail = () => reject(lost(`write to ${what}`, socketError ?? "the connection closed"));
        if (socket.destroyed) return fail();
        if (socket.write(chunk) && transport.writableLength < TRANSPORT_HIGH_WATER) {
          return resolve();
        }
        const onProgress = () => {
          if (socket.writableNeedDrain || transport.writableLength >= TRANSPORT_HIGH_WATER) return;
          stop();
          resolve();
        };
        const onClose = () => {
          stop();
          fail();
        };
        const stop = () => {
          socket.off("drain", onProgress);
          transport.off("written", onProgress);
          socket.off("close", onClose);
        };
        socket.on("drain", onProgress);
        transport.on("written", onProgress);
        socket.once("close", onClose);
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        transport.once("finish", resolve);
        transport.once("close", resolve);
        socket.end(() => transport.end());
      }).finally(() => halves.writeDone());
    },
    abort() {
      halves.close();
    },
  });
  return { stream: { readable, writable }, close: () => halves.close() };
}

/** A dialled Deno connection as a node Duplex, for TLSSocket to wrap. */
function duplexOver(conn: Deno.Conn): Duplex {
  const duplex: Duplex = new Duplex({
    // Deno 2.9.6's TLSSocket loses records when the stream it wraps asks for
    // backpressure (write() returning false; 2 of 20 relayed 16 MiB transfers
    // here): so this never asks, and the channel's writable waits on
    // "written" instead (see TRANSPORT_HIGH_WATER).
    writableHighWaterMark: Number.MAX_SAFE_INTEGER,
    read() {
      const buffer = new Uint8Array(CHUNK);
      conn.read(buffer).then(
        (n) => this.push(n === null ? null : buffer.subarray(0, n)),
        (error) => this.destroy(error),
      );
    },
    write(chunk: Uint8Array, _encoding, callback) {
      (async () => {
        for (let offset = 0; offset < chunk.length;) {
          offset += await conn.write(chunk.subarray(offset));
        }
      })().then(() => {
        callback();
        duplex.emit("written");
      }, callback);
    },
    final(callback) {
      conn.closeWrite().then(() => callback(), callback);
    },
    destroy(error, callback) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
      callback(error);
    },
  });
  return duplex;
}

/** Reads exactly `length` bytes through a BYOB reader, leaving the rest in the stream. */
export async function readExact(
  readable: ReadableStream<Uint8Array>,
  length: number,
  what: string,
): Promise<Uint8Array> {
  const reader = readable.getReader({ mode: "byob" });
  try {
    return await readExactFrom(reader, length, what);
  } finally {
    reader.releaseLock();
  }
}

/** `readExact` on a held reader; `null` when the stream ends before the first byte. */
export async function readExactFrom(
  reader: ReadableStreamBYOBReader,
  length: number,
  what: string,
  allowEnd = false,
): Promise<Uint8Array> {
  let buffer = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const { value, done } = await reader.read(
      new Uint8Array(buffer.buffer, filled, length - filled),
    );
    if (value !== undefined) {
      buffer = new Uint8Array(value.buffer, 0, length);
      filled += value.byteLength;
    }
    if (done && filled < length) {
      if (allowEnd && filled === 0) return new Uint8Array(0);
      throw new ConnectionLostError(
        `Cannot read ${what}: the connection closed after ${filled} of ${length} bytes`,
      );
    }
  }
  return buffer;
}

/** Writes `bytes` and releases the writer lock. */
export async function writeAll(writable: WritableStream<Uint8Array>, bytes: Uint8Array) {
  const writer = writable.getWriter();
  try {
    await writer.write(bytes);
  } finally {
    writer.releaseLock();
  }
}

/**
 * A signal that aborts with `signal`'s reason or, after `ms`, with a
 * `TimeoutError` saying `message`; dispose it to clear the timer.
 */
export function deadline(
  signal: AbortSignal | undefined,
  ms: number,
  message: string,
): { signal: AbortSignal } & Disposable {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new TimeoutError(message)), ms);
  const onAbort = () => controller.abort(signal!.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    [Symbol.dispose]() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    },
  };
}

/** Settles like `work`, or rejects with `signal.reason` at once, calling `onAbort` to free what `work` holds. */
export function untilAborted<T>(
  work: Promise<T>,
  signal: AbortSignal,
  onAbort: () => void,
): Promise<T> {
  if (signal.aborted) {
    onAbort();
    work.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort();
      work.catch(() => {});
      reject(signal.reason);
    };
    signal.addEventListener("abort", abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}

export function lost(what: string, cause: unknown): ConnectionLostError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new ConnectionLostError(`Cannot ${what}: ${reason}`, { cause });
}

/** Frees a socket once both halves are done, or at once on `close()`. */
class Halves {
  #read = false;
  #write = false;
  #closed = false;
  #free: () => void;

  constructor(free: () => void) {
    this.#free = free;
  }

  readDone(): void {
    this.#read = true;
    if (this.#write) this.close();
  }

  writeDone(): void {
    this.#write = true;
    if (this.#read) this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#free();
  }
}
