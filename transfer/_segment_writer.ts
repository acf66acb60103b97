/**
 * The sender's side of the striping (PROTOCOL.md, "The data stream"): the
 * logical data stream cut into DATA segments, segment k on data stream k mod N.
 */
import { abortable, concatBytes } from "../base/mod.ts";
import {
  encodeDataHello,
  encodeFrame,
  FRAME_HEADER_BYTES,
  FrameType,
  writeFrameHeader,
} from "./wire/mod.ts";

export interface SegmentWriterOptions {
  /** Bytes per DATA segment. */
  segmentSize: number;
  signal: AbortSignal;
  /** Called on a failed write: stops the transfer. */
  fail: (error: unknown) => void;
  /**
   * What each stream's first write starts with, instead of its DATA_HELLO: START and the frames
   * before it, when the data goes on the control stream (START inline).
   */
  first?: Uint8Array[];
}

/**
 * Cuts the logical data stream into DATA frames and writes them round-robin.
 * A segment's buffer is used again once its write is done: a fresh 1 MiB
 * buffer per segment costs page faults and cold memory for the file read, the
 * hash and the encryption, which doubled the sender's CPU per GiB.
 */
export class SegmentWriter {
  #segment: Uint8Array;
  /** The segments after the current one that `room(ahead)` handed out, in order. */
  #upcoming: Uint8Array[] = [];
  #free: Uint8Array[] = [];
  #fill = 0;
  #count = 0;
  #options: SegmentWriterOptions;
  #writers: WritableStreamDefaultWriter<Uint8Array>[];
  /**
   * Each stream's DATA_HELLO, until it goes out in one write with that stream's first segment:
   * written alone it was a small write that the segment behind it waited on (Nagle's algorithm on
   * the sender's TLS connections, and the receiver's delayed ACK: ~40 ms, tcpdump).
   */
  #hellos: (Uint8Array | undefined)[];

  constructor(options: SegmentWriterOptions, writers: WritableStreamDefaultWriter<Uint8Array>[]) {
    this.#options = options;
    this.#writers = writers;
    this.#segment = new Uint8Array(FRAME_HEADER_BYTES + options.segmentSize);
    this.#hellos = options.first ??
      writers.map((_, index) =>
        encodeFrame(FrameType.DATA_HELLO, encodeDataHello(index, writers.length))
      );
  }

  /** Bytes of file data a full segment holds. */
  get segmentSize(): number {
    return this.#options.segmentSize;
  }

  /**
   * Free room in the current segment, to read file bytes straight into; `ahead` > 0: the whole
   * room of the segment that many after it, for a caller that fills every segment before it
   * (reads ahead of the current segment).
   */
  room(ahead = 0): Uint8Array {
    const end = FRAME_HEADER_BYTES + this.#options.segmentSize;
    if (ahead === 0) return this.#segment.subarray(FRAME_HEADER_BYTES + this.#fill, end);
    while (this.#upcoming.length < ahead) this.#upcoming.push(this.#newSegment());
    return this.#upcoming[ahead - 1].subarray(FRAME_HEADER_BYTES, end);
  }

  #newSegment(): Uint8Array {
    return this.#free.pop() ?? new Uint8Array(FRAME_HEADER_BYTES + this.#options.segmentSize);
  }

  /**
   * Marks `n` bytes of `room()` as filled. A full segment is handed on at
   * once: `room()` is already the next segment's when this returns its
   * promise, so a caller may read into it while the full one waits for its
   * stream (await the promise before the next call: segments keep their order).
   */
  filled(n: number): Promise<void> {
    this.#fill += n;
    return this.#fill === this.#options.segmentSize ? this.flush() : Promise.resolve();
  }

  /** Marks `n` bytes of `room()` as filled that leave room after them (nothing is handed on). */
  fillWithin(n: number): void {
    if (this.#fill + n >= this.#options.segmentSize) {
      throw new RangeError(
        `Cannot fill ${n} bytes within the segment: it has ${this.room().length}`,
      );
    }
    this.#fill += n;
  }

  async write(bytes: Uint8Array): Promise<void> {
    let copied = 0;
    while (copied < bytes.length) {
      const room = this.room();
      const take = Math.min(bytes.length - copied, room.length);
      room.set(bytes.subarray(copied, copied + take));
      copied += take;
      await this.filled(take);
    }
  }

  /**
   * Sends the current segment (see `filled`: the next one is current once this is called);
   * `last`: bytes that end the data, in the same write.
   */
  async flush(last?: Uint8Array): Promise<void> {
    if (this.#fill === 0 && !last) return;
    const writers = this.#writers;
    const segment = this.#segment;
    const frame = segment.subarray(0, FRAME_HEADER_BYTES + this.#fill);
    writeFrameHeader(segment, FrameType.DATA, this.#fill);
    this.#segment = this.#upcoming.shift() ?? this.#newSegment();
    this.#fill = 0;
    const index = this.#count % writers.length;
    const writer = writers[index];
    this.#count++;
    try {
      await abortable(writer.ready, this.#options.signal);
    } catch (error) {
      // A stream the receiver dropped is a failed write, whichever call sees it first.
      if (!this.#options.signal.aborted) this.#options.fail(error);
      throw this.#options.signal.aborted ? this.#options.signal.reason : error;
    }
    const hello = this.#hellos[index];
    this.#hellos[index] = undefined;
    const parts = [
      ...(hello ? [hello] : []),
      ...(frame.length > FRAME_HEADER_BYTES ? [frame] : []),
      ...(last ? [last] : []),
    ];
    writer.write(parts.length === 1 ? parts[0] : concatBytes(parts))
      .then(() => this.#free.push(segment), this.#options.fail);
  }

  /** Sends the DATA_HELLO of streams that got no segment (a stream is known by its hello). */
  helloRest(): void {
    this.#hellos.forEach((hello, index) => {
      if (hello) this.#writers[index].write(hello).catch(this.#options.fail);
      this.#hellos[index] = undefined;
    });
  }
}
