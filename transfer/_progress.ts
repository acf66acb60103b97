/** The byte counts both roles keep while data moves, and the progress they report. */
import type { TransferProgress } from "./types.ts";

export class ProgressCounter {
  /** File bytes that crossed the wire in this run. */
  bytesTransferred = 0;
  #done: number;
  #total: number;
  #unknownSize: boolean;
  #onMoved: () => void;
  #onProgress?: (progress: TransferProgress) => void;

  constructor(options: {
    /** Bytes already there before any data moved (skipped files, resumed prefixes). */
    already: number;
    total: number;
    /** A stream of unknown size: its total is whatever has arrived. */
    unknownSize: boolean;
    /** Called for every byte count that moved (the stall watch). */
    onMoved: () => void;
    onProgress?: (progress: TransferProgress) => void;
  }) {
    this.#done = options.already;
    this.#total = options.total;
    this.#unknownSize = options.unknownSize;
    this.#onMoved = options.onMoved;
    this.#onProgress = options.onProgress;
  }

  /** `bytes` of `file` moved. */
  readonly onBytes = (bytes: number, file: string): void => {
    this.#onMoved();
    this.#done += bytes;
    this.bytesTransferred += bytes;
    this.#onProgress?.(
      this.#unknownSize
        ? { bytes: this.#done, total: this.#done, file, unknownSize: true }
        : { bytes: this.#done, total: this.#total, file },
    );
  };

  /** `file` changed while read: its `discarded` bytes come again, with its new `size`. */
  readonly onRestart = (file: string, discarded: number, size: number): void => {
    this.#done -= discarded;
    this.#total += size - discarded;
    this.#onProgress?.({ bytes: this.#done, total: this.#total, file });
  };
}
