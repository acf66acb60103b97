/**
 * A file's partial on disk (NAME.p2pft-partial): how it is opened (fresh with its
 * mode, or cut to the resumed prefix), written, synced early, and put back after
 * a failed run. The receiver's data path (`_receive_data.ts`) drives it.
 */
import { writeAll, writeAllSync } from "../base/mod.ts";
import { dropCleanPages } from "../base/drop_cache.ts";
import type { FileTarget } from "./_receive_data.ts";

/**
 * Writes at or above this size go to the thread pool, several at once (`PartialTarget`);
 * smaller ones (most files of a tree) are one sync call, which costs less than the promise
 * and thread hop of an async one (and opens no handle beside the partial's own).
 */
const ASYNC_WRITE_BYTES = 128 * 1024;

/**
 * Bytes written into one partial after which its data starts going to disk, and, once
 * synced, leaves the page cache (`PartialTarget`). Dropping those clean pages lets the
 * next writes take the memory just freed: on this project's Firecracker VM (free pages
 * reported back to the host) a page freed over ~5 s earlier cost ~2 kernel CPU s per GiB
 * to allocate again, one freed just before ~0.2 (transfer/PROTOCOL.md, "Through the relay").
 */
const EARLY_SYNC_BYTES = 64 * 1024 * 1024;

/**
 * A file's bytes into its open partial, up to `WRITES_IN_FLIGHT` writes at
 * once, each at its own place through a handle of its own. One write at a
 * time, awaited before the next, made the receiver wait 3.1-3.5 s of a relayed
 * GiB's ~4 s on that chain: ~4 ms from one 1 MiB write's start to the next's,
 * 0.3 ms of it in the kernel, the rest the hops to the thread pool and back
 * (a sync write instead blocked the event loop for seconds when the disk
 * fell behind, long enough for the peer to give up). With two, a relayed GiB
 * took 3.69 and 3.78 s against 3.77 and 4.08 s for one, at the same receiver
 * CPU (anchors.sh 1G 4 at real-time priority, two runs, tools in both orders).
 *
 * Every `EARLY_SYNC_BYTES` an fdatasync starts on the thread pool (one at a
 * time) while the next bytes arrive: the page cache held all of a 1 GiB file,
 * and the sync before publishing then wrote it out alone, ~0.9 s after its
 * last byte. Their failures are left to that last sync, which reports them.
 * After each, the file's clean pages are dropped (`dropCleanPages`): a
 * relayed GiB's receiver then spent 1.1-1.2 kernel CPU s instead of 2.4-3.1.
 */
export class PartialTarget implements FileTarget {
  static readonly WRITES_IN_FLIGHT = 2;
  readonly writesInFlight = PartialTarget.WRITES_IN_FLIGHT;
  /** The partial's own handle: sync writes, syncs, truncation. */
  #handle: Deno.FsFile;
  #path: string;
  /** A handle of its own per async write in flight, each with its last write. */
  #slots: { handle: Deno.FsFile; write: Promise<void> }[] = [];
  #count = 0;
  /** Where the next write goes. */
  #position: number;
  /** The start of the first write that failed: nothing after it may stay in the partial. */
  #failedAt: number | undefined;
  #unsynced = 0;
  #syncing: Promise<void> | undefined;

  /** `position`: where `handle` stands (the resumed prefix's end). */
  constructor(handle: Deno.FsFile, path: string, position: number) {
    this.#handle = handle;
    this.#path = path;
    this.#position = position;
  }

  /**
   * Writes all of `bytes` at the partial's next place; the caller keeps at
   * most `writesInFlight` of these unsettled, and `bytes` unchanged until settled.
   */
  async write(bytes: Uint8Array): Promise<void> {
    // Each write says where it goes, so they may land in any order.
    const at = this.#position;
    this.#position += bytes.length;
    try {
      if (bytes.length < ASYNC_WRITE_BYTES) {
        this.#handle.seekSync(at, Deno.SeekMode.Start);
        writeAllSync(this.#handle, bytes);
      } else {
        const slot = this.#slot();
        await slot.write;
        slot.handle.seekSync(at, Deno.SeekMode.Start);
        slot.write = writeAll(slot.handle, bytes);
        await slot.write;
      }
    } catch (error) {
      this.#failedAt = Math.min(this.#failedAt ?? at, at);
      throw error;
    }
    this.#unsynced += bytes.length;
    if (this.#unsynced < EARLY_SYNC_BYTES || this.#syncing) return;
    this.#unsynced = 0;
    this.#syncing = this.#handle.syncData().then(() => dropCleanPages(this.#path)).catch(() => {})
      .finally(() => {
        this.#syncing = undefined;
      });
  }

  /** The next write's handle, in turn; a handle of its own is opened the first time. */
  #slot(): { handle: Deno.FsFile; write: Promise<void> } {
    const index = this.#count++ % this.writesInFlight;
    if (index === this.#slots.length) {
      this.#slots.push({
        handle: Deno.openSync(this.#path, { write: true }),
        write: Promise.resolve(),
      });
    }
    return this.#slots[index];
  }

  restart(): Promise<void> {
    this.#handle.truncateSync(0);
    this.#position = 0;
    return Promise.resolve();
  }

  /**
   * Resolves once no write or sync runs on the partial, so that it may be
   * closed; the write handles are closed. After a failed write the partial is
   * cut where it failed, so it holds only bytes that came in order.
   */
  async settled(): Promise<void> {
    await Promise.allSettled(this.#slots.map((slot) => slot.write));
    await this.#syncing;
    for (const { handle } of this.#slots) handle.close();
    this.#slots.length = 0;
    if (this.#failedAt !== undefined) {
      try {
        this.#handle.truncateSync(this.#failedAt);
      } catch {
        // The failure itself is what the caller reports.
      }
    }
  }
}

/**
 * Opens a file's partial: fresh, or cut to the resumed prefix and positioned
 * after it. A sync open (the caller gives the event loop its turns).
 * A fresh partial is created with the file's own mode when the umask leaves it
 * whole and its owner may write it (a later run resumes into it): publishing
 * then needs no chmod (`modeSet`).
 */
export function openPartial(
  partial: string,
  file: { offset: number; mode: number },
): { handle: Deno.FsFile; modeSet: boolean } {
  const mode = file.mode & 0o777;
  if (file.offset === 0 && creatableWith(mode)) {
    try {
      // Only a new file takes `mode`: one left by an earlier run keeps its own.
      const handle = Deno.openSync(partial, { write: true, createNew: true, mode });
      return { handle, modeSet: true };
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
  const handle = Deno.openSync(partial, { write: true, create: true, truncate: file.offset === 0 });
  if (file.offset > 0) {
    try {
      handle.truncateSync(file.offset);
      handle.seekSync(file.offset, Deno.SeekMode.Start);
    } catch (error) {
      handle.close();
      throw error;
    }
  }
  return { handle, modeSet: false };
}

/** The process's umask, read once (reading it sets it, so not per file); null: unknown. */
let umask: number | null | undefined;

/**
 * `Deno.umask()` needs `--allow-sys`, which Deno 2.9.6 grants only whole (its allow-list has no
 * "umask"), so the installed command, which never gets more than it uses, reads it from
 * /proc on Linux instead. Unknown elsewhere: files then get their mode by chmod.
 */
function processUmask(): number | null {
  try {
    return Deno.umask();
  } catch {
    try {
      const status = Deno.readTextFileSync("/proc/self/status");
      const match = status.match(/^Umask:\s+([0-7]+)$/m);
      return match ? parseInt(match[1], 8) : null;
    } catch {
      return null;
    }
  }
}

/** The mode a file created with 0o666 gets here (the umask applied); null: unknown. */
export function defaultFileMode(): number | null {
  if (Deno.build.os === "windows") return null;
  umask ??= processUmask();
  return umask === null ? null : 0o666 & ~umask;
}

/** Whether a file created with `mode` gets exactly that mode, and its owner may write it. */
function creatableWith(mode: number): boolean {
  if (Deno.build.os === "windows" || (mode & 0o200) === 0) return false;
  umask ??= processUmask();
  return umask !== null && (mode & umask) === 0;
}

/** Puts a partial back as it was before this run: gone, or cut to the resumed prefix. */
export async function rollBack(partial: string, offset: number): Promise<void> {
  if (offset === 0) {
    await Deno.remove(partial).catch(() => {});
    return;
  }
  await Deno.truncate(partial, offset).catch(() => {});
}
