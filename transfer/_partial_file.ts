/**
 * A file's partial on disk (NAME.p2pft-partial): how it is opened (fresh with its
 * mode, or cut to the resumed prefix), written, synced early, and put back after
 * a failed run. The receiver's data path (`_receive_data.ts`) drives it.
 */
import { writeAll, writeAllSync } from "../base/mod.ts";
import type { FileTarget } from "./_receive_data.ts";

/**
 * Writes at or above this size go to the thread pool and overlap with the next
 * chunk; smaller ones (most files of a tree) are one sync call, which costs
 * less than the promise and thread hop of an async one.
 */
const ASYNC_WRITE_BYTES = 128 * 1024;

/** Writes all of `bytes` (one segment at a time: one write per segment). */
async function writeSegment(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  if (bytes.length < ASYNC_WRITE_BYTES) writeAllSync(file, bytes);
  else await writeAll(file, bytes);
}

/** Bytes written into one partial after which its data starts going to disk (`PartialTarget`). */
const EARLY_SYNC_BYTES = 64 * 1024 * 1024;

/**
 * A file's bytes into its open partial. Every `EARLY_SYNC_BYTES` an fdatasync
 * starts on the thread pool (one at a time) while the next bytes arrive: the
 * page cache held all of a 1 GiB file, and the sync before publishing then
 * wrote it out alone, ~0.9 s after its last byte. Their failures are left to
 * that last sync, which reports them.
 */
export class PartialTarget implements FileTarget {
  #handle: Deno.FsFile;
  #unsynced = 0;
  #syncing: Promise<void> | undefined;

  constructor(handle: Deno.FsFile) {
    this.#handle = handle;
  }

  async write(bytes: Uint8Array): Promise<void> {
    await writeSegment(this.#handle, bytes);
    this.#unsynced += bytes.length;
    if (this.#unsynced < EARLY_SYNC_BYTES || this.#syncing) return;
    this.#unsynced = 0;
    this.#syncing = this.#handle.syncData().catch(() => {}).finally(() => {
      this.#syncing = undefined;
    });
  }

  restart(): Promise<void> {
    this.#handle.truncateSync(0);
    this.#handle.seekSync(0, Deno.SeekMode.Start);
    return Promise.resolve();
  }

  /** Resolves once no sync runs on the handle, so that it may be closed. */
  async settled(): Promise<void> {
    await this.#syncing;
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
