/**
 * Receiver: verified partials made durable and published under their final
 * names, in batches (PROTOCOL.md, "Publishing and crashes").
 */
import { dirname } from "../base/path.ts";
import { EventLoopTurns, TransferRefusedError } from "../base/mod.ts";

/** A partial whose SHA-256 matched, with what its final name needs. */
export interface VerifiedPartial {
  handle: Deno.FsFile;
  partial: string;
  /** Final local path. */
  target: string;
  /** Manifest path, for messages. */
  path: string;
  /** Bytes written into it. */
  size: number;
  mode: number;
  /** The partial was created with `mode`: no chmod needed. */
  modeSet?: boolean;
  mtimeMs: number | null;
}

/** What a queued partial keeps: its file is closed. */
type Queued = Pick<VerifiedPartial, "partial" | "target" | "path">;

/**
 * Publishes verified partials in batches: once no batch is running, the
 * partials verified meanwhile form the next batch as soon as they are at least
 * `BATCH_FILES` files or `BATCH_BYTES` bytes (and at `drain`), so the disk sets
 * the pace and a sync is spread over many small files. A batch's partials are
 * made durable together, then linked to their final names.
 *
 * Why batches (measured on this project's 2-core VM, ext4 on a virtual disk,
 * files of 1 KiB): an fdatasync per file costs 2.4 ms serially and 0.7–1.1 ms
 * with 64–256 running at once on the thread pool (the journal commits them
 * together), which made 21,000 man pages take 7 s and 200,000 tiny files over
 * 70 s, where `tar | nc` (which never syncs) took 3 s and 10 s. One `syncfs`
 * over 20,000 freshly written files took 0.3–0.5 s. tar, rsync, croc and both
 * wormholes publish without syncing; we keep the stronger rule that a final
 * name only ever holds a whole, verified file whose bytes reached the disk
 * first, and pay one `syncfs` per batch instead of one fdatasync per file.
 *
 * On Linux a batch is made durable by `sync -f` (syncfs(2) of each file system
 * the batch lives on, in a process of its own so the event loop goes on
 * receiving; 15–40 ms to start here, so not for a last batch of a few files);
 * where `sync` may not be run or has no `-f`, and for those few files, by each
 * partial's fdatasync, 256 at once on Deno's thread pool. When `sync -f` was
 * used, `drain` runs it once more so the last names are durable too.
 */
export class Publisher {
  /** Files that make a batch worth a sync of its own. */
  static readonly BATCH_FILES = 256;
  /** Bytes that make a batch worth a sync of its own (a big file is one). */
  static readonly BATCH_BYTES = 64 * 1024 * 1024;
  /** Partials the next batch may hold: beyond it `add` waits for the running batch. */
  static readonly MAX_WAITING = 16384;
  /** Whether `sync -f` may be used: Linux, the permission, and a `sync -f` that worked. */
  #syncFs: boolean;
  /** Whether a batch was made durable by `sync -f` (then `drain` syncs the names too). */
  #usedSyncFs = false;
  #waiting: Queued[] = [];
  #waitingBytes = 0;
  /** The running batch: its sync, then its links. */
  #running: Promise<void> | undefined;
  #failure: { error: unknown } | undefined;
  /** One path per file system seen (by device), for `sync -f`; directories already looked at. */
  #fileSystems = new Map<number, string>();
  #directories = new Set<string>();
  #turns = new EventLoopTurns();

  constructor(options: { syncFs?: boolean } = {}) {
    this.#syncFs = options.syncFs ?? mayRunSync();
  }

  /** Gives `file` its mode and mtime, closes it and queues it; waits only while a full batch waits. */
  async add(file: VerifiedPartial): Promise<void> {
    this.#throwIfFailed();
    try {
      if (file.mtimeMs !== null) file.handle.utimeSync(new Date(), new Date(file.mtimeMs));
      if (!file.modeSet && Deno.build.os !== "windows") {
        Deno.chmodSync(file.partial, file.mode & 0o777);
      }
    } finally {
      file.handle.close();
    }
    await this.queue(file);
  }

  /**
   * Queues a verified partial that is closed and has its mode and mtime. Returns a promise only
   * when a full batch waits for the running one (then the caller waits too), so a loop over
   * small files stays free of awaits.
   */
  queue(file: Queued & { size: number }): Promise<void> | undefined {
    this.#throwIfFailed();
    this.#noteFileSystem(file.partial);
    this.#waiting.push({ partial: file.partial, target: file.target, path: file.path });
    this.#waitingBytes += file.size;
    if (!this.#running && this.#batchReady()) this.#startBatch();
    if (this.#running && this.#waiting.length >= Publisher.MAX_WAITING) return this.#room();
  }

  async #room(): Promise<void> {
    while (this.#running && this.#waiting.length >= Publisher.MAX_WAITING) await this.#running;
    this.#throwIfFailed();
  }

  /**
   * Publishes every partial still waiting; the first failure is thrown after
   * every batch was tried (a failed transfer still publishes its verified
   * files: the next run skips them).
   */
  async drain(): Promise<void> {
    while (this.#running) await this.#running;
    if (this.#waiting.length > 0) {
      this.#startBatch();
      while (this.#running) await this.#running;
    }
    if (!this.#failure && this.#usedSyncFs) {
      await this.#syncFileSystems().catch((error) => this.#fail(error));
    }
    this.#throwIfFailed();
  }

  #batchReady(): boolean {
    return this.#waiting.length >= Publisher.BATCH_FILES ||
      this.#waitingBytes >= Publisher.BATCH_BYTES;
  }

  #startBatch(): void {
    const batch = this.#waiting;
    this.#waiting = [];
    this.#waitingBytes = 0;
    this.#running = this.#runBatch(batch)
      .catch((error) => this.#fail(error))
      .finally(() => {
        this.#running = undefined;
        if (this.#batchReady()) this.#startBatch();
      });
  }

  async #runBatch(batch: Queued[]): Promise<void> {
    await this.#makeDurable(batch);
    for (const file of batch) {
      // Inside a staging folder it already has its name: published with the folder.
      if (file.partial === file.target) continue;
      // A long batch gives the event loop a turn now and then.
      await this.#turns.turn();
      // One name that appeared meanwhile does not keep the others from being published.
      try {
        publish(file.partial, file.target, file.path);
      } catch (error) {
        this.#fail(error);
      }
    }
  }

  async #makeDurable(batch: Queued[]): Promise<void> {
    if (this.#syncFs && batch.length > EACH_FILE_AT_MOST) {
      try {
        await this.#syncFileSystems();
        this.#usedSyncFs = true;
        return;
      } catch {
        // No `sync` program here (a minimal container), or one without -f (an
        // old busybox): each file's fdatasync from now on, which also reports
        // a failing disk.
        this.#syncFs = false;
      }
    }
    for (let at = 0; at < batch.length; at += EACH_FILE_AT_ONCE) {
      await Promise.all(
        batch.slice(at, at + EACH_FILE_AT_ONCE).map(async ({ partial }) => {
          using handle = await Deno.open(partial, { write: true });
          await handle.syncData();
        }),
      );
    }
  }

  #noteFileSystem(partial: string): void {
    if (!this.#syncFs) return;
    const directory = dirname(partial);
    if (this.#directories.has(directory)) return;
    this.#directories.add(directory);
    const { dev } = Deno.statSync(directory);
    if (!this.#fileSystems.has(dev)) this.#fileSystems.set(dev, directory);
  }

  /** syncfs(2) of every file system written to: `sync -f`, in a process of its own. */
  async #syncFileSystems(): Promise<void> {
    const paths = [...this.#fileSystems.values()];
    const { code, stderr } = await new Deno.Command(SYNC, {
      args: ["-f", ...paths],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    if (code !== 0) {
      const why = new TextDecoder().decode(stderr).trim();
      throw new Error(`Cannot make the received files durable: sync -f exited ${code}: ${why}`);
    }
  }

  #fail(error: unknown): void {
    this.#failure ??= { error };
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure.error;
  }
}

/** The program run for syncfs(2); allowed by scripts/permissions.ts. */
const SYNC = "sync";

/** A last batch this small is synced file by file: cheaper than starting `sync`. */
const EACH_FILE_AT_MOST = 8;

/** fdatasyncs run at once for a small batch (each holds a file descriptor and a pool thread). */
const EACH_FILE_AT_ONCE = 256;

/** Linux, and this process may run `sync`. */
function mayRunSync(): boolean {
  if (Deno.build.os !== "linux") return false;
  return Deno.permissions.querySync({ name: "run", command: SYNC }).state === "granted";
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
