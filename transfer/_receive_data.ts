/**
 * Receiver hot path: consume DATA segments strictly in order (segment k from
 * stream k mod N), write each file's bytes sequentially into its partial,
 * hash them as they arrive, verify, then publish under the final name.
 */
import type { Hash } from "node:crypto";
import { IntegrityError, ProtocolError, TransferRefusedError } from "../errors.ts";
import type { ByteReader } from "./_byte_reader.ts";
import { equalBytes, toHex } from "../bytes.ts";
import { DIGEST_BYTES, FRAME_HEADER_BYTES, FrameType, parseFrameHeader } from "./_frame.ts";
import { PARTIAL_SUFFIX } from "./_path_safety.ts";

export interface IncomingFile {
  path: string;
  /** Final local path. */
  target: string;
  size: number;
  /** Bytes already in the partial and in `hash` (0: start a fresh partial). */
  offset: number;
  hash: Hash;
  mode: number;
  mtimeMs: number | null;
}

/** Reads the logical data stream out of the striped DATA segments. */
class SegmentReader {
  #readers: ByteReader[];
  #segmentSize: number;
  #dataLeft: number;
  #segmentLeft = 0;
  #current: ByteReader | null = null;
  #count = 0;

  constructor(readers: ByteReader[], segmentSize: number, dataBytes: number) {
    this.#readers = readers;
    this.#segmentSize = segmentSize;
    this.#dataLeft = dataBytes;
  }

  /** Next 1..max bytes of the logical stream (no copy). */
  async next(max: number): Promise<Uint8Array> {
    if (this.#segmentLeft === 0) {
      if (this.#dataLeft === 0) {
        throw new ProtocolError("Cannot read data: more bytes needed than START announced");
      }
      const reader = this.#readers[this.#count % this.#readers.length];
      const expected = Math.min(this.#segmentSize, this.#dataLeft);
      const header = await reader.readExact(FRAME_HEADER_BYTES);
      const { length } = parseFrameHeader(header, {
        expect: [FrameType.DATA],
        what: `data segment ${this.#count}`,
        maxPayload: this.#segmentSize,
      });
      if (length !== expected) {
        throw new ProtocolError(
          `Cannot decode data segment ${this.#count}: length ${length}, expected ${expected}`,
        );
      }
      this.#count++;
      this.#current = reader;
      this.#segmentLeft = length;
    }
    const chunk = await this.#current!.readChunk(Math.min(max, this.#segmentLeft));
    this.#segmentLeft -= chunk.length;
    this.#dataLeft -= chunk.length;
    return chunk;
  }

  async readDigest(): Promise<Uint8Array> {
    const digest = new Uint8Array(DIGEST_BYTES);
    let filled = 0;
    while (filled < DIGEST_BYTES) {
      const chunk = await this.next(DIGEST_BYTES - filled);
      digest.set(chunk, filled);
      filled += chunk.length;
    }
    return digest;
  }

  /** Every byte announced was consumed and every stream ended cleanly. */
  async finish(): Promise<void> {
    if (this.#dataLeft !== 0) {
      throw new ProtocolError(`Cannot finish data: ${this.#dataLeft} bytes unread`);
    }
    for (const [index, reader] of this.#readers.entries()) {
      if (!(await reader.atEnd())) {
        throw new ProtocolError(`Cannot finish data: extra bytes on data stream ${index}`);
      }
    }
  }
}

/**
 * Writes each chunk as it arrives (QUIC delivers ≤ 64 KiB). Coalescing into
 * 1 MiB blocks cost more CPU than it saved (see PROTOCOL.md, design notes).
 */
async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
}

/** Receives every file; returns each file's SHA-256 hex by path. */
export async function receiveData(
  files: IncomingFile[],
  options: {
    readers: ByteReader[];
    segmentSize: number;
    dataBytes: number;
    signal: AbortSignal;
    onBytes: (bytes: number, path: string) => void;
  },
): Promise<Map<string, string>> {
  const segments = new SegmentReader(options.readers, options.segmentSize, options.dataBytes);
  const hashes = new Map<string, string>();
  const finishing = new Finishing();
  try {
    for (const file of files) {
      options.signal.throwIfAborted();
      finishing.throwIfFailed();
      const partial = file.target + PARTIAL_SUFFIX;
      const handle = await Deno.open(partial, {
        write: true,
        create: true,
        truncate: file.offset === 0,
      });
      let actual: Uint8Array;
      try {
        actual = await receiveFile(handle, file, segments, options.onBytes);
      } catch (error) {
        handle.close();
        if (error instanceof IntegrityError) await Deno.remove(partial).catch(() => {});
        // Wrong bytes from a live peer leave nothing behind; a broken stream or
        // our own failure keeps the partial for resume.
        else if (error instanceof ProtocolError) {
          await rollBack(partial, file.offset);
        }
        throw error;
      }
      // fsync and publish in the background: the file system commits many
      // small files' syncs together, which keeps many small files fast.
      await finishing.add(finish(handle, partial, file));
      hashes.set(file.path, toHex(actual));
      if (file.size === file.offset) options.onBytes(0, file.path);
    }
    await segments.finish();
  } finally {
    await finishing.drain();
  }
  finishing.throwIfFailed();
  return hashes;
}

/** Writes one file's bytes into its open partial and checks its SHA-256; returns the digest. */
async function receiveFile(
  handle: Deno.FsFile,
  file: IncomingFile,
  segments: SegmentReader,
  onBytes: (bytes: number, path: string) => void,
): Promise<Uint8Array> {
  if (file.offset > 0) {
    await handle.truncate(file.offset);
    await handle.seek(file.offset, Deno.SeekMode.Start);
  }
  let left = file.size - file.offset;
  while (left > 0) {
    const chunk = await segments.next(left);
    file.hash.update(chunk);
    await writeAll(handle, chunk);
    left -= chunk.length;
    onBytes(chunk.length, file.path);
  }
  const expected = await segments.readDigest();
  const actual = file.hash.digest();
  if (!equalBytes(actual, expected)) {
    throw new IntegrityError(
      `SHA-256 mismatch for ${file.path}: received ${toHex(actual)}, sender has ${toHex(expected)}`,
    );
  }
  return actual;
}

/** Makes a verified partial durable, gives it its mode and mtime, and publishes it. */
async function finish(handle: Deno.FsFile, partial: string, file: IncomingFile): Promise<void> {
  try {
    await handle.syncData();
    if (file.mtimeMs !== null) await handle.utime(new Date(), new Date(file.mtimeMs));
  } finally {
    handle.close();
  }
  if (Deno.build.os !== "windows") await Deno.chmod(partial, file.mode & 0o777);
  await publish(partial, file.target, file.path);
}

/** At most MAX_FINISHING files being synced and published at once; the first failure is kept. */
class Finishing {
  static readonly MAX = 32;
  #pending = new Set<Promise<void>>();
  #failure: { error: unknown } | undefined;

  async add(work: Promise<void>): Promise<void> {
    const tracked: Promise<void> = work
      .catch((error) => {
        this.#failure ??= { error };
      })
      .finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
    if (this.#pending.size >= Finishing.MAX) await Promise.race(this.#pending);
  }

  async drain(): Promise<void> {
    await Promise.all(this.#pending);
  }

  throwIfFailed(): void {
    if (this.#failure) throw this.#failure.error;
  }
}

/** Puts a partial back as it was before this run: gone, or cut to the resumed prefix. */
async function rollBack(partial: string, offset: number): Promise<void> {
  if (offset === 0) {
    await Deno.remove(partial).catch(() => {});
    return;
  }
  await Deno.truncate(partial, offset).catch(() => {});
}

/**
 * Moves a verified partial to its final name without ever replacing an
 * existing file: a hard link fails if the name exists; where hard links are
 * not supported, check then rename.
 */
async function publish(partial: string, target: string, path: string): Promise<void> {
  try {
    await Deno.link(partial, target);
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new TransferRefusedError(
        `Refusing to overwrite ${path}: ${target} appeared during the transfer`,
        {
          cause: error,
        },
      );
    }
    try {
      await Deno.lstat(target);
      throw new TransferRefusedError(
        `Refusing to overwrite ${path}: ${target} appeared during the transfer`,
      );
    } catch (statError) {
      if (!(statError instanceof Deno.errors.NotFound)) throw statError;
    }
    await Deno.rename(partial, target);
    return;
  }
  await Deno.remove(partial);
}
