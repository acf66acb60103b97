/**
 * In-memory duplex pairs for the handshake tests (test-only helper).
 *
 * @module
 */
import { concatBytes } from "../base/mod.ts";

/** One end of a duplex pair. */
export interface Duplex {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

/**
 * Two ends joined by TransformStreams: default (non-byte) streams, where a
 * write completes only once the other end reads it.
 */
export function transformPair(): [Duplex, Duplex] {
  const there = new TransformStream<Uint8Array, Uint8Array>();
  const back = new TransformStream<Uint8Array, Uint8Array>();
  return [
    { readable: back.readable, writable: there.writable },
    { readable: there.readable, writable: back.writable },
  ];
}

/** Like {@link transformPair}, but every byte travels as its own chunk. */
export function fragmentingPair(): [Duplex, Duplex] {
  const split = () =>
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        for (const byte of chunk) controller.enqueue(new Uint8Array([byte]));
      },
    });
  const there = split();
  const back = split();
  return [
    { readable: back.readable, writable: there.writable },
    { readable: there.readable, writable: back.writable },
  ];
}

/**
 * Two ends joined by byte streams (`type: "bytes"`, like a QUIC stream) with
 * an unbounded buffer: writes complete at once, as into a socket's send buffer.
 */
export function bytePair(): [Duplex, Duplex] {
  const there = bytePipe();
  const back = bytePipe();
  return [
    { readable: back.readable, writable: there.writable },
    { readable: there.readable, writable: back.writable },
  ];
}

function bytePipe(): Duplex {
  let controller!: ReadableByteStreamController;
  const readable = new ReadableStream({
    type: "bytes",
    start(c) {
      controller = c;
    },
  });
  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      controller.enqueue(chunk.slice());
    },
    close() {
      controller.close();
    },
    abort(reason) {
      controller.error(reason);
    },
  });
  return { readable, writable };
}

/** Rejects if `promise` takes longer than `ms`; clears its timer either way. */
export async function bounded<T>(promise: Promise<T>, ms = 5_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`test step took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads everything left in `readable` into one array. */
export async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of readable) chunks.push(chunk);
  return concatBytes(chunks);
}
