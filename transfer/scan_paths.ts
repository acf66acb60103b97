/**
 * Sender side: walk the input paths into manifest entries (pre-order, sorted,
 * parents before children). A path named by the user is followed if it is a
 * symlink; inside folders symlinks, FIFOs, sockets and devices are skipped and
 * reported. Every file is opened once here, so an unreadable file fails before
 * anyone is asked for a code.
 */
import { basename, join, resolve } from "node:path";
import { UnsafePathError } from "../errors.ts";
import type { ManifestEntry } from "./_messages.ts";
import { LIMITS } from "./_frame.ts";
import { checkRelativePath } from "./_path_safety.ts";

export interface SourceEntry extends ManifestEntry {
  /** Where the sender reads it (files only matter). */
  source: string;
  /** What the file looked like when scanned; a difference later means it changed. */
  snapshot: FileSnapshot;
  /** Where the bytes of a file of unknown size come from (read once, instead of `source`). */
  stream?: ReadableStream<Uint8Array>;
}

/** The facts that change when a file's content changes. */
export interface FileSnapshot {
  size: number;
  mtimeMs: number | null;
  ctimeMs: number | null;
  ino: number | null;
}

/** An entry inside a folder that is not sent, and why. */
export interface SkippedEntry {
  path: string;
  kind: "symlink" | "fifo" | "socket" | "device";
}

/** The one walk of the inputs: what is shown to the user is what is sent. */
export interface SourceManifest {
  entries: SourceEntry[];
  files: number;
  directories: number;
  bytes: number;
  skipped: SkippedEntry[];
}

export function snapshotOf(info: Deno.FileInfo): FileSnapshot {
  return {
    size: info.size,
    mtimeMs: info.mtime?.getTime() ?? null,
    ctimeMs: info.ctime?.getTime() ?? null,
    ino: info.ino,
  };
}

export function sameSnapshot(a: FileSnapshot, b: FileSnapshot): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs &&
    a.ino === b.ino;
}

function wrapFsError(error: unknown, action: string, path: string): Error {
  if (!(error instanceof Error)) return new Error(`Cannot ${action} ${path}: ${error}`);
  const Class = error.constructor as new (message: string, options?: ErrorOptions) => Error;
  const message = `Cannot ${action} ${path}: ${error.message}`;
  try {
    return new Class(message, { cause: error });
  } catch {
    return new Error(message, { cause: error });
  }
}

/**
 * Walks `paths` once into the manifest `sendFiles` sends. Missing or unreadable
 * inputs throw (the Deno error class, path in the message); unsafe names throw
 * `UnsafePathError`. Every input adds at least its own entry, so an offer is
 * never empty.
 */
export async function scanPaths(
  paths: string[],
  options: { signal?: AbortSignal } = {},
): Promise<SourceManifest> {
  if (paths.length === 0) throw new TypeError("Cannot send: no paths given");
  const manifest: SourceManifest = { entries: [], files: 0, directories: 0, bytes: 0, skipped: [] };
  const topNames = new Set<string>();
  for (const input of paths) {
    options.signal?.throwIfAborted();
    const absolute = resolve(input);
    const name = basename(absolute);
    if (name === "") {
      throw new RangeError(`Cannot send ${input}: it has no name (file system root)`);
    }
    let info: Deno.FileInfo;
    try {
      // A path the user named is followed, as cp and rsync do.
      info = await Deno.stat(absolute);
    } catch (error) {
      throw wrapFsError(error, "send", input);
    }
    if (!info.isFile && !info.isDirectory) {
      throw new RangeError(`Cannot send ${input}: not a regular file or directory`);
    }
    if (topNames.has(name)) {
      throw new RangeError(
        `Cannot send ${input}: another input is also named ${JSON.stringify(name)}`,
      );
    }
    topNames.add(name);
    await add(manifest, name, absolute, info);
    if (info.isDirectory) await walk(manifest, name, absolute, options.signal);
  }
  for (const entry of manifest.entries) checkRelativePath(entry.path);
  return manifest;
}

async function add(
  manifest: SourceManifest,
  path: string,
  source: string,
  info: Deno.FileInfo,
): Promise<void> {
  if (manifest.entries.length >= LIMITS.maxEntries) {
    throw new RangeError(`Cannot send: more than ${LIMITS.maxEntries} files and directories`);
  }
  if (info.isFile) {
    try {
      (await Deno.open(source, { read: true })).close();
    } catch (error) {
      throw wrapFsError(error, "read", source);
    }
  }
  const kind = info.isFile ? "file" : "directory";
  const size = info.isFile ? info.size : 0;
  manifest.entries.push({
    kind,
    path,
    source,
    size,
    mode: (info.mode ?? (info.isFile ? 0o644 : 0o755)) & 0o7777,
    mtimeMs: info.mtime?.getTime() ?? null,
    snapshot: snapshotOf(info),
  });
  if (info.isFile) {
    manifest.files++;
    manifest.bytes += size;
  } else {
    manifest.directories++;
  }
}

function skippedKind(info: Deno.FileInfo): SkippedEntry["kind"] {
  if (info.isSymlink) return "symlink";
  if (info.isFifo) return "fifo";
  if (info.isSocket) return "socket";
  return "device";
}

async function walk(
  manifest: SourceManifest,
  relative: string,
  absolute: string,
  signal?: AbortSignal,
) {
  const children: Deno.DirEntry[] = [];
  try {
    for await (const child of Deno.readDir(absolute)) children.push(child);
  } catch (error) {
    throw wrapFsError(error, "read directory", absolute);
  }
  children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const child of children) {
    signal?.throwIfAborted();
    const childRelative = `${relative}/${child.name}`;
    const childAbsolute = join(absolute, child.name);
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(childAbsolute);
    } catch (error) {
      throw notUtf8(absolute, child.name, error) ?? wrapFsError(error, "stat", childAbsolute);
    }
    if (!info.isFile && !info.isDirectory) {
      manifest.skipped.push({ path: childRelative, kind: skippedKind(info) });
      continue;
    }
    await add(manifest, childRelative, childAbsolute, info);
    if (info.isDirectory) await walk(manifest, childRelative, childAbsolute, signal);
  }
}

/**
 * Deno reads names lossily, so a name that is not valid UTF-8 arrives with
 * U+FFFD in place of its bad bytes and then cannot be found: say so, with
 * those places shown as `\ufffd`, instead of "No such file or directory".
 * A name inside a folder is not a usage error (the command line was fine):
 * it is a name the transfer cannot carry, like any other unsafe name.
 */
function notUtf8(directory: string, name: string, error: unknown): Error | undefined {
  if (!(error instanceof Deno.errors.NotFound) || !name.includes("\ufffd")) return undefined;
  const shown = join(directory, name).replaceAll("\ufffd", "\\ufffd");
  return new UnsafePathError(
    `Cannot send ${shown}: the name is not valid UTF-8 (each \\ufffd stands for bytes that are not); rename it`,
    { cause: error },
  );
}
