/**
 * Receiver, version 5 (PROTOCOL.md, "Small transfers on the control stream"): a small transfer's
 * DATA segments come on the control stream right after START, ended by an empty DATA frame, the
 * way a data stream ends with its FIN. This reads them as the one data stream the segment reader
 * takes, so the data path is the same as with data streams.
 */
import type { ByteReader } from "../base/mod.ts";
import { peerError } from "./_control.ts";
import type { DataReader } from "./_stream_reader.ts";
import { decodeError, FRAME_HEADER_BYTES, FrameType, parseFrameHeader } from "./wire/mod.ts";

export class InlineData implements DataReader {
  readonly #control: ByteReader;
  readonly #segmentSize: number;
  /** A DATA header read by `atEnd`, handed to the next `readExact` of a header. */
  #header: Uint8Array | undefined;
  readonly #ended = Promise.withResolvers<void>();

  constructor(control: ByteReader, segmentSize: number) {
    this.#control = control;
    this.#segmentSize = segmentSize;
    this.#ended.promise.catch(() => {});
  }

  /** Settles once the empty DATA frame came (the control stream is the sender's again after it). */
  get ended(): Promise<void> {
    return this.#ended.promise;
  }

  /** Whether the data ended: reads the next frame's header (the sender's ERROR is thrown). */
  async atEnd(): Promise<boolean> {
    if (this.#header) return false;
    try {
      const header = await this.#control.readExact(FRAME_HEADER_BYTES);
      const { type, length } = parseFrameHeader(header, {
        expect: [FrameType.DATA, FrameType.ERROR],
        what: "inline data",
        maxPayload: this.#segmentSize,
      });
      if (type === FrameType.ERROR) {
        throw peerError(decodeError(await this.#control.readExact(length)), "sender");
      }
      if (length > 0) {
        this.#header = header;
        return false;
      }
      this.#ended.resolve();
      return true;
    } catch (error) {
      this.#ended.reject(error);
      throw error;
    }
  }

  readExact(length: number, what?: string): Promise<Uint8Array> {
    const header = this.#header;
    this.#header = undefined;
    if (header && length === FRAME_HEADER_BYTES) return Promise.resolve(header);
    return this.#control.readExact(length, what);
  }

  readInto(...args: Parameters<ByteReader["readInto"]>): Promise<Uint8Array> {
    return this.#control.readInto(...args);
  }

  /** The control stream is the transfer's: it is cancelled with it, not here. */
  cancel(): Promise<void> {
    return Promise.resolve();
  }
}
