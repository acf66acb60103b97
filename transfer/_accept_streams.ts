/**
 * Receiver: the data streams, accepted as the sender opens them. Segment k
 * needs only stream k mod N, and the sender opens stream k with segment k:
 * waiting for every stream before reading any left the receiver idle while the
 * sender filled N segments, 85,000 files of 16 bytes for the first 4.
 */
import { abortable, ProtocolError } from "../base/mod.ts";
import { type DataReader, dataReader } from "./_stream_reader.ts";
import type { StreamConnection } from "./types.ts";
import { decodeDataHello, FrameType, readFrame } from "./wire/mod.ts";

export interface DataStreams {
  /** One reader per stream, by DATA_HELLO index; each call waits until its stream is accepted. */
  readers: DataReader[];
  /** Settles once every stream was accepted, or one failed (then every waiting reader fails too). */
  accepted: Promise<void>;
}

/** Accepts `count` data streams in the background; `onAccepted` gets each one's reader. */
export function acceptDataStreams(
  connection: StreamConnection,
  count: number,
  options: { signal: AbortSignal; onAccepted: (reader: DataReader) => void },
): DataStreams {
  const slots = Array.from({ length: count }, () => Promise.withResolvers<DataReader>());
  for (const slot of slots) slot.promise.catch(() => {});
  const accepted = (async () => {
    const indexes = new Set<number>();
    try {
      for (let n = 0; n < count; n++) {
        const { index, reader } = await acceptOne(connection, count, options.signal, indexes);
        indexes.add(index);
        options.onAccepted(reader);
        slots[index].resolve(reader);
      }
    } catch (error) {
      for (const slot of slots) slot.reject(error);
      throw error;
    }
  })();
  accepted.catch(() => {});
  return { readers: slots.map((slot) => laterReader(slot.promise)), accepted };
}

/** A reader whose stream may not be accepted yet: each call first waits for it. */
function laterReader(reader: Promise<DataReader>): DataReader {
  return {
    atEnd: () => reader.then((it) => it.atEnd()),
    readExact: (...args) => reader.then((it) => it.readExact(...args)),
    readInto: (...args) => reader.then((it) => it.readInto(...args)),
    cancel: (...args) => reader.then((it) => it.cancel(...args)),
  };
}

async function acceptOne(
  connection: StreamConnection,
  count: number,
  signal: AbortSignal,
  indexes: Set<number>,
): Promise<{ index: number; reader: DataReader }> {
  const stream = await abortable(connection.acceptStream(), signal);
  stream.writable.close().catch(() => {});
  const reader = dataReader(stream, signal);
  const frame = await readFrame(reader, { expect: [FrameType.DATA_HELLO], what: "data stream" });
  const hello = decodeDataHello(frame.payload);
  if (hello.count !== count || hello.index >= count || indexes.has(hello.index)) {
    await reader.cancel();
    throw new ProtocolError(
      `Cannot accept data stream ${hello.index} of ${hello.count}: expected ${count} distinct streams`,
    );
  }
  return { index: hello.index, reader };
}
