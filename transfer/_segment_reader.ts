/**
 * The receiver's side of the striping (PROTOCOL.md, "The data stream"):
 * DATA segment k from data stream k mod N, every stream reading ahead.
 */
import { fillFrom, ProtocolError } from "../base/mod.ts";
import type { DataReader } from "./_stream_reader.ts";
import { FRAME_HEADER_BYTES, FrameType, parseFrameHeader } from "./wire/mod.ts";

/**
 * Reads the logical data stream out of the striped DATA segments. Its length
 * is not known in advance (a file that changed while read comes again), so
 * every segment but the last is full, and a short segment is the last one.
 *
 * Every stream reads its next whole segment ahead while the one before is
 * written, so all streams drain at once and each segment is hashed and
 * written with one call: a TLS stream delivers 16 KiB records, and handling
 * those one by one, stream after stream, left the link idle.
 *
 * A stream that breaks inside a segment still yields the part that arrived:
 * those are the logical stream's next bytes once the segments before it are
 * in, and a partial keeps every byte that came in order. Keeping only whole
 * segments, a relay's small byte cap (4 MiB over 4 streams) left nothing.
 */
export class SegmentReader {
  #lanes: Lane[];
  #segmentSize: number;
  #segment: Uint8Array = new Uint8Array(0);
  /** Why the current segment is cut short: thrown once its bytes are used. */
  #cut: unknown = undefined;
  #offset = 0;
  #lane: Lane | null = null;
  /** The segments before this one, oldest first, that the caller may still be writing. */
  #held: { lane: Lane; segment: Uint8Array }[] = [];
  /** How many segments before the current one stay valid (see `next`). */
  #holds: number;
  #count = 0;
  #ended = false;

  /**
   * `holds`: how many segments before the current one the caller may still be writing out (its
   * writes in flight); their buffers are reused only after that.
   */
  constructor(readers: DataReader[], segmentSize: number, holds = 1) {
    this.#segmentSize = segmentSize;
    this.#holds = holds;
    this.#lanes = readers.map((reader, index) =>
      new Lane(reader, { index, lanes: readers.length, segmentSize })
    );
  }

  /**
   * Next 1..max bytes of the logical stream, without a copy. They stay valid
   * while at most `holds` segments were taken after theirs, so a caller may
   * write them out while it takes and hashes the next chunks, as long as no
   * more than `holds` writes are in flight when it asks again (with the
   * default 1: it awaits the last write before asking again).
   */
  async next(max: number): Promise<Uint8Array> {
    if (this.#offset === this.#segment.length) {
      if (this.#cut !== undefined) throw this.#cut;
      if (this.#ended || this.#lanes.length === 0) {
        throw new ProtocolError("Cannot read data: more bytes needed than the sender sent");
      }
      if (this.#lane) this.#held.push({ lane: this.#lane, segment: this.#segment });
      if (this.#held.length > this.#holds) {
        const oldest = this.#held.shift()!;
        oldest.lane.recycle(oldest.segment);
      }
      const lane = this.#lanes[this.#count % this.#lanes.length];
      const segment = await lane.take();
      if (segment === null) {
        throw new ProtocolError(
          `Cannot read data segment ${this.#count}: stream ${lane.index} ended`,
        );
      }
      this.#count++;
      this.#lane = lane;
      this.#segment = segment.bytes;
      this.#cut = segment.cut;
      this.#offset = 0;
      this.#ended = segment.cut === undefined && segment.bytes.length < this.#segmentSize;
    }
    const take = Math.min(max, this.#segment.length - this.#offset);
    const chunk = this.#segment.subarray(this.#offset, this.#offset + take);
    this.#offset += take;
    return chunk;
  }

  /**
   * The next `length` bytes when the current segment holds them all, without a wait or a copy
   * (valid until `next` moves on); null otherwise. They are not consumed: see `skip`.
   */
  peek(length: number): Uint8Array | null {
    if (this.#segment.length - this.#offset < length) return null;
    return this.#segment.subarray(this.#offset, this.#offset + length);
  }

  /** Consumes `length` bytes that `peek` returned. */
  skip(length: number): void {
    this.#offset += length;
  }

  /** Exactly `length` bytes of the logical stream (a trailer may span two segments). */
  async readExact(length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    // `next` throws rather than end early, so the fill is always whole.
    await fillFrom(this.#asSource, out);
    return out;
  }

  /** The logical stream as a source that reads into a buffer, for `fillFrom`. */
  readonly #asSource = {
    read: async (view: Uint8Array): Promise<number> => {
      const chunk = await this.next(view.length);
      view.set(chunk);
      return chunk.length;
    },
  };

  /** Every byte sent was consumed and every stream ended cleanly. */
  async finish(): Promise<void> {
    if (this.#cut !== undefined) throw this.#cut;
    const unread = this.#segment.length - this.#offset;
    if (unread !== 0) {
      throw new ProtocolError(`Cannot finish data: ${unread} bytes unread`);
    }
    for (const lane of this.#lanes) {
      if ((await lane.take()) !== null) {
        throw new ProtocolError(`Cannot finish data: extra bytes on data stream ${lane.index}`);
      }
    }
  }
}

/**
 * Segment bytes the streams may read ahead at once (one segment each; the
 * segments in use double it): 16 streams of 1 MiB fit, a sender's 16 of 16 MiB do not.
 */
const READ_AHEAD_BUDGET_BYTES = 32 * 1024 * 1024;

/**
 * One data stream's segments (k, k + N, ...), the next one always being read.
 * A failure is kept until the segment is asked for: a stream that breaks after
 * the last segment the receiver needs is no error.
 */
/** A segment's payload; `cut`: its stream failed after these bytes, with this error. */
interface Segment {
  bytes: Uint8Array;
  cut?: unknown;
}

class Lane {
  readonly index: number;
  #reader: DataReader;
  #lanes: number;
  #segmentSize: number;
  #readsAhead: boolean;
  #count = 0;
  #ahead: Promise<Segment | null> | null = null;
  #spares: Uint8Array[] = [];

  constructor(
    reader: DataReader,
    options: { index: number; lanes: number; segmentSize: number },
  ) {
    this.index = options.index;
    this.#reader = reader;
    this.#lanes = options.lanes;
    this.#segmentSize = options.segmentSize;
    // A sender may ask for 16 streams of 16 MiB segments: beyond the budget, read on demand.
    this.#readsAhead = options.lanes * options.segmentSize <= READ_AHEAD_BUDGET_BYTES;
    if (this.#readsAhead) this.#ahead = this.#readAhead();
  }

  /** The next segment, or null when the stream ended cleanly instead. */
  async take(): Promise<Segment | null> {
    const segment = await (this.#ahead ?? this.#read());
    this.#ahead = segment === null
      ? Promise.resolve(null)
      : this.#readsAhead && segment.cut === undefined
      ? this.#readAhead()
      : null;
    return segment;
  }

  /** Hands back a taken segment's buffer once its bytes are written and hashed. */
  recycle(segment: Uint8Array): void {
    this.#spares.push(new Uint8Array(segment.buffer));
  }

  #readAhead(): Promise<Segment | null> {
    const ahead = this.#read();
    ahead.catch(() => {});
    return ahead;
  }

  async #read(): Promise<Segment | null> {
    if (await this.#reader.atEnd()) return null;
    const number = this.index + this.#count * this.#lanes;
    const header = await this.#reader.readExact(FRAME_HEADER_BYTES);
    const { length } = parseFrameHeader(header, {
      expect: [FrameType.DATA],
      what: `data segment ${number}`,
      maxPayload: this.#segmentSize,
    });
    if (length === 0) {
      throw new ProtocolError(`Cannot decode data segment ${number}: it is empty`);
    }
    this.#count++;
    const spare = this.#spares.pop();
    const buffer = spare !== undefined && spare.length >= length ? spare : new Uint8Array(length);
    const progress = { filled: 0 };
    try {
      return {
        bytes: await this.#reader.readInto(buffer.subarray(0, length), undefined, progress),
      };
    } catch (error) {
      if (progress.filled === 0) throw error;
      return { bytes: buffer.subarray(0, progress.filled), cut: error };
    }
  }
}
