/**
 * Receiver: a folder that does not exist here yet is received whole into a hidden staging folder
 * beside it (`.NAME.p2pft-partial`), each file straight under its own name there, and published
 * with one rename at the end (PROTOCOL.md, "Folders received whole"). Per file that is one
 * directory entry, as `tar x` makes, where a partial, its link and its unlink make three.
 */
import { basename, dirname, join } from "../base/path.ts";
import { TransferRefusedError, utf8Length } from "../base/mod.ts";
import { NAME_MAX, PARTIAL_SUFFIX } from "./_path_safety.ts";

/** A folder received into a staging folder. */
export interface StagedFolder {
  /** Manifest index and path of the folder. */
  index: number;
  path: string;
  /** The staging folder, and the final name it takes at the end. */
  staging: string;
  target: string;
  /** Left by an interrupted run: what is in it is looked at, and pruned (`pruneStaged`). */
  resumed?: boolean;
}

/**
 * Removes from each staging folder an interrupted run left whatever this run does not write
 * there (what the sender no longer offers, what is not written now): the folder is published
 * whole, so nothing but what this run verified may come out of it under a final name.
 * `written`: the manifest paths this run writes.
 */
export function pruneStaged(folders: StagedFolder[], written: () => Set<string>): void {
  const resumed = folders.filter((folder) => folder.resumed);
  if (resumed.length === 0) return;
  const paths = written();
  for (const { staging, path } of resumed) prune(staging, path, paths);
}

function prune(directory: string, path: string, written: Set<string>): void {
  for (const { name, isDirectory } of Deno.readDirSync(directory)) {
    const child = `${path}/${name}`;
    const local = join(directory, name);
    if (!written.has(child)) Deno.removeSync(local, { recursive: true });
    else if (isDirectory) prune(local, child, written);
  }
}

/**
 * The staging folder of the folder `target`, or undefined when its name leaves no room for the
 * dot and suffix (its files then take partials of their own, as in a folder that exists).
 */
export function stagingPath(target: string): string | undefined {
  const name = `.${basename(target)}${PARTIAL_SUFFIX}`;
  return utf8Length(name) <= NAME_MAX ? join(dirname(target), name) : undefined;
}

/**
 * Publishes staged folders under their final names without ever replacing anything. rename(2)
 * cannot be told not to replace (and Deno has no renameat2), but it replaces only an empty
 * folder: so the final name is first taken with an exclusive mkdir, and the staging folder is
 * renamed onto that empty folder of our own. A name that appeared first fails the mkdir; one
 * that someone filled meanwhile fails the rename (ENOTEMPTY). Each parent folder is then synced,
 * so the names are durable before DONE (the files' bytes were synced by the publisher).
 */
export function publishFolders(folders: StagedFolder[]): void {
  const parents = new Set<string>();
  for (const { path, staging, target } of folders) {
    const refuse = (cause?: unknown) =>
      new TransferRefusedError(
        `Refusing to overwrite ${path}: ${target} appeared during the transfer; what arrived is in ${staging}`,
        { cause },
      );
    if (Deno.build.os === "windows") {
      // There a rename never replaces a folder.
      if (exists(target)) throw refuse();
    } else {
      try {
        Deno.mkdirSync(target, { mode: 0o700 });
      } catch (error) {
        if (error instanceof Deno.errors.AlreadyExists) throw refuse(error);
        throw error;
      }
    }
    try {
      Deno.renameSync(staging, target);
    } catch (error) {
      if (isNotEmpty(error)) throw refuse(error);
      if (Deno.build.os !== "windows") Deno.removeSync(target);
      throw error;
    }
    parents.add(dirname(target));
  }
  if (Deno.build.os === "windows") return;
  for (const parent of parents) {
    using handle = Deno.openSync(parent, { read: true });
    handle.syncDataSync();
  }
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** ENOTEMPTY (EEXIST on some systems): the folder we took was filled by someone else. */
function isNotEmpty(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === "ENOTEMPTY" || code === "EEXIST";
}
