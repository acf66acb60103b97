/**
 * Receiver: verified partials made durable and published under their final
 * names, many at a time (PROTOCOL.md, "Publishing and crashes").
 */
import { TransferRefusedError } from "../base/mod.ts";

/** A partial whose SHA-256 matched, with what its final name needs. */
export interface VerifiedPartial {
  handle: Deno.FsFile;
  partial: string;
  /** Final local path. */
  target: string;
  /** Manifest path, for messages. */
  path: string;
  mode: number;
  mtimeMs: number | null;
}

interface Waiting extends VerifiedPartial {
  synced: Promise<void>;
}

/**
 * Publishes verified partials in the order they arrive. Each one's fsync
 * starts at once and runs on Deno's thread pool while the next files arrive;
 * a partial is linked to its final name only after its own fsync returned.
 * Awaiting one fsync per file left the receiver idle for most of a tree of
 * small files, and concurrent fsyncs share the file system's journal commits.
 * The rest (mode, mtime, link, unlink) are one sync call each: a promise and
 * a thread hop per call cost more than the system call.
 */
export class Publisher {
  /** Partials whose fsync may run at once (each holds a file descriptor). */
  static readonly WINDOW = 256;
  #waiting: Waiting[] = [];
  #next = 0;

  /** Gives `file` its mode and mtime, starts its fsync, and publishes what waited longest. */
  async add(file: VerifiedPartial): Promise<void> {
    let synced: Promise<void>;
    try {
      if (file.mtimeMs !== null) file.handle.utimeSync(new Date(), new Date(file.mtimeMs));
      if (Deno.build.os !== "windows") Deno.chmodSync(file.partial, file.mode & 0o777);
      synced = file.handle.syncData();
    } catch (error) {
      file.handle.close();
      throw error;
    }
    synced.catch(() => {});
    this.#waiting.push({ ...file, synced });
    while (this.#waiting.length - this.#next > Publisher.WINDOW) await this.#publishNext();
  }

  /** Publishes every partial still waiting; the first failure is thrown after all were tried. */
  async drain(): Promise<void> {
    let failure: { error: unknown } | undefined;
    while (this.#next < this.#waiting.length) {
      await this.#publishNext().catch((error) => {
        failure ??= { error };
      });
    }
    if (failure) throw failure.error;
  }

  async #publishNext(): Promise<void> {
    const file = this.#waiting[this.#next];
    this.#next++;
    // Compact the queue now and then instead of shifting on every file.
    if (this.#next >= 1024) {
      this.#waiting = this.#waiting.slice(this.#next);
      this.#next = 0;
    }
    try {
      await file.synced;
    } finally {
      file.handle.close();
    }
    publish(file.partial, file.target, file.path);
  }
}

/**
 * Moves a verified partial to its final name without ever replacing an
 * existing file: a hard link fails if the name exists; where hard links are
 * not supported, check then rename.
 */
function publish(partial: string, target: string, path: string): void {
  try {
    Deno.linkSync(partial, target);
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new TransferRefusedError(
        `Refusing to overwrite ${path}: ${target} appeared during the transfer`,
        { cause: error },
      );
    }
    try {
      Deno.lstatSync(target);
      throw new TransferRefusedError(
        `Refusing to overwrite ${path}: ${target} appeared during the transfer`,
      );
    } catch (statError) {
      if (!(statError instanceof Deno.errors.NotFound)) throw statError;
    }
    Deno.renameSync(partial, target);
    return;
  }
  Deno.removeSync(partial);
}
