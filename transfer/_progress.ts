/** The byte counts both roles keep while data moves, and the progress they report. */
import type { TransferProgress, TransferReport } from "./types.ts";

export interface ProgressCounterOptions {
  /** Bytes already there before any data moved (skipped files, resumed prefixes). */
  already: number;
  total: number;
  /** A stream of unknown size: its total is whatever has arrived. */
  unknownSize: boolean;
  /** Called for every byte count that moved (the stall watch). */
  onMoved: () => void;
  onProgress?: (progress: TransferProgress) => void;
}

export class ProgressCounter {
  /** File bytes that crossed the wire in this run. */
  bytesTransferred = 0;
  #done: number;
  readonly #already: number;
  #offered: number;
  #total: number;
  #unknownSize: boolean;
  #onMoved: () => void;
  #movedAt = 0;
  #onProgress?: (progress: TransferProgress) => void;

  constructor(options: ProgressCounterOptions) {
    this.#done = options.already;
    this.#already = options.already;
    this.#offered = options.total;
    this.#total = options.total;
    this.#unknownSize = options.unknownSize;
    this.#onMoved = options.onMoved;
    this.#onProgress = options.onProgress;
  }

  /** `bytes` of `file` moved. */
  readonly onBytes = (bytes: number, file: string): void => {
    // The stall watch reads a clock (a call into Deno) when told: once per millisecond is
    // enough, where a tree of small files told it once per file.
    const now = Date.now();
    if (now !== this.#movedAt) {
      this.#movedAt = now;
      this.#onMoved();
    }
    this.#done += bytes;
    this.bytesTransferred += bytes;
    this.#onProgress?.(
      this.#unknownSize
        ? { bytes: this.#done, total: this.#done, file, unknownSize: true }
        : this.#known(file),
    );
  };

  /** Progress of a known total, saying what was there before this run if anything was. */
  #known(file: string): TransferProgress {
    const progress = { bytes: this.#done, total: this.#total, file };
    return this.#already > 0 ? { ...progress, already: this.#already } : progress;
  }

  /** `file` changed while read: its `discarded` bytes come again, with its new `size`. */
  readonly onRestart = (file: string, discarded: number, size: number): void => {
    this.#done -= discarded;
    this.#total += size - discarded;
    this.#onProgress?.(this.#known(file));
  };

  /**
   * The report of a finished transfer that started at `startedMs`: the byte
   * counts come from this counter (the offered total, or for a stream of
   * unknown size what moved), the rest from the role.
   */
  report(
    startedMs: number,
    facts: Omit<TransferReport, "totalBytes" | "bytesTransferred" | "seconds">,
  ): TransferReport {
    return {
      ...facts,
      // Files of unknown size count what arrived of them (a stream alone: what moved).
      totalBytes: this.#unknownSize ? this.#done : this.#offered,
      bytesTransferred: this.bytesTransferred,
      seconds: (performance.now() - startedMs) / 1000,
    };
  }
}
