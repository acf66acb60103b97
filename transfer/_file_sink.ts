/**
 * Sequential file writer for the receiver's hot path: coalesces the network's
 * small chunks (QUIC delivers ≤ 64 KiB) into blocks of up to 1 MiB and keeps
 * one block being written while the next fills, so disk writes overlap with
 * reading and hashing. Memory: at most `2 × blockSize` per file.
 */
export class FileSink {
  #file: Deno.FsFile;
  #blockSize: number;
  #left: number;
  #block: Uint8Array | null = null;
  #fill = 0;
  #inFlight: Promise<void> = Promise.resolve();

  /** `expected`: bytes that will be written in total (sizes the last block). */
  constructor(file: Deno.FsFile, expected: number, blockSize = 1024 * 1024) {
    this.#file = file;
    this.#blockSize = blockSize;
    this.#left = expected;
  }

  /** Copies `chunk` into the current block; hands full blocks to the disk. */
  async write(chunk: Uint8Array): Promise<void> {
    if (Deno.env.get("P2_SINK") === "0") return writeAll(this.#file, chunk);
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#block === null) {
        this.#block = new Uint8Array(
          Math.min(this.#blockSize, Math.max(this.#left, chunk.length - offset)),
        );
        this.#fill = 0;
      }
      const take = Math.min(chunk.length - offset, this.#block.length - this.#fill);
      this.#block.set(chunk.subarray(offset, offset + take), this.#fill);
      this.#fill += take;
      this.#left -= take;
      offset += take;
      if (this.#fill === this.#block.length) await this.#submit();
    }
  }

  async #submit(): Promise<void> {
    const block = this.#block!.subarray(0, this.#fill);
    this.#block = null;
    this.#fill = 0;
    await this.#inFlight; // at most one block on its way to the disk
    this.#inFlight = writeAll(this.#file, block);
    this.#inFlight.catch(() => {}); // surfaced by the next submit or flush
  }

  /** Writes what is buffered and waits for the disk. */
  async flush(): Promise<void> {
    if (this.#block !== null && this.#fill > 0) await this.#submit();
    await this.#inFlight;
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
}
