/**
 * Sender side: walk the input paths into manifest entries (pre-order, sorted,
 * parents before children), skipping symlinks and reporting them.
 */
import { basename, join, resolve } from "node:path";
import type { ManifestEntry } from "./_messages.ts";
import { LIMITS } from "./_frame.ts";
import { assertNoCaseCollisions, checkRelativePath } from "./_path_safety.ts";

export interface SourceEntry extends ManifestEntry {
  /** Where the sender reads it (files only matter). */
  source: string;
}

export interface SourceManifest {
  entries: SourceEntry[];
  files: number;
  directories: number;
  bytes: number;
  skippedSymlinks: string[];
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

/** Walks `paths` into a manifest. Missing or unreadable inputs throw with the path in the message. */
export async function buildManifest(
  paths: string[],
  options: { signal?: AbortSignal } = {},
): Promise<SourceManifest> {
  if (paths.length === 0) throw new TypeError("Cannot send: no paths given");
  const manifest: SourceManifest = {
    entries: [],
    files: 0,
    directories: 0,
    bytes: 0,
    skippedSymlinks: [],
  };
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
      info = await Deno.lstat(absolute);
    } catch (error) {
      throw wrapFsError(error, "send", input);
    }
    if (info.isSymlink) {
      manifest.skippedSymlinks.push(input);
      continue;
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
    if (info.isFile) {
      try {
        (await Deno.open(absolute, { read: true })).close();
      } catch (error) {
        throw wrapFsError(error, "read", input);
      }
    }
    add(manifest, name, absolute, info);
    if (info.isDirectory) await walk(manifest, name, absolute, options.signal);
  }
  for (const entry of manifest.entries) checkRelativePath(entry.path);
  assertNoCaseCollisions(manifest.entries.map((entry) => entry.path));
  return manifest;
}

function add(manifest: SourceManifest, path: string, source: string, info: Deno.FileInfo): void {
  if (manifest.entries.length >= LIMITS.maxEntries) {
    throw new RangeError(`Cannot send: more than ${LIMITS.maxEntries} files and directories`);
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
  });
  if (info.isFile) {
    manifest.files++;
    manifest.bytes += size;
  } else {
    manifest.directories++;
  }
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
    if (child.isSymlink) {
      manifest.skippedSymlinks.push(childRelative);
      continue;
    }
    if (!child.isFile && !child.isDirectory) continue; // sockets, FIFOs, devices: not sent
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(childAbsolute);
    } catch (error) {
      throw wrapFsError(error, "stat", childAbsolute);
    }
    add(manifest, childRelative, childAbsolute, info);
    if (info.isDirectory) await walk(manifest, childRelative, childAbsolute, signal);
  }
}
