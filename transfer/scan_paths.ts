/**
 * Sender side: walk the input paths into manifest entries (pre-order, sorted,
 * parents before children). A path named by the user is followed if it is a
 * symlink, and fails the scan if it cannot be read. Inside folders one odd
 * entry never stops the rest: symlinks, FIFOs, sockets, devices, unreadable
 * files and folders, and names the transfer cannot carry are skipped and
 * listed (the receiver sees the list before it accepts). Every file that is
 * not readable by all is opened once here, so an unreadable one is known
 * before anyone is asked for a code.
 */
import { basename, EventLoopTurns, osReason, resolve, SEP } from "../base/mod.ts";
import type { ManifestEntry, NotSent } from "./wire/mod.ts";
import { LIMITS } from "./wire/limits_mod.ts";
import {
  canonicalLinkTarget,
  checkLinkTarget,
  checkRelativePath,
  relativePathProblem,
} from "./_path_safety.ts";

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

/** An entry inside a folder that is not sent, and why (`detail`: the error, for the sender's user). */
export interface SkippedEntry extends NotSent {
  detail?: string;
}

/** The one walk of the inputs: what is shown to the user is what is sent. */
export interface SourceManifest {
  entries: SourceEntry[];
  files: number;
  directories: number;
  /** Symlinks kept as symlinks (their target stays inside the tree sent). */
  links: number;
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

/**
 * "Cannot send notes.txt: No such file or directory": Deno's error, same class, worded with the
 * path the user knows (Deno's message names the absolute path).
 */
export function wrapFsError(error: unknown, action: string, path: string): Error {
  if (!(error instanceof Error)) return new Error(`Cannot ${action} ${path}: ${error}`);
  const Class = error.constructor as new (message: string, options?: ErrorOptions) => Error;
  const message = `Cannot ${action} ${path}: ${osReason(error)}`;
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
  const manifest: SourceManifest = {
    entries: [],
    files: 0,
    directories: 0,
    links: 0,
    bytes: 0,
    skipped: [],
  };
  const topNames = new Set<string>();
  const walker = { signal: options.signal, turns: new EventLoopTurns() };
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
    checkRelativePath(name);
    const error = add(manifest, name, absolute, info);
    if (error) throw wrapFsError(error, "read", absolute);
    if (info.isDirectory) await walk(manifest, name, absolute, walker);
  }
  return manifest;
}

/**
 * Adds one entry; a file that cannot be opened or read is not added: its error
 * is returned. A file the kernel says is empty but that has bytes (/proc and
 * /sys pseudo-files) is sent as a file of unknown size, read to its end.
 */
function add(
  manifest: SourceManifest,
  path: string,
  source: string,
  info: Deno.FileInfo,
): unknown {
  if (manifest.entries.length >= LIMITS.maxEntries) {
    throw new RangeError(`Cannot send: more than ${LIMITS.maxEntries} files and directories`);
  }
  let unknownSize = false;
  // A file others may read is readable here too (short of an ACL or a security
  // module, which the send still reports): only an empty file (it may be a
  // pseudo-file with bytes) or one without that bit is opened, which was 2.8 s
  // of a 7.4 s walk of 200,000 files.
  if (info.isFile && (info.size === 0 || ((info.mode ?? 0) & 0o004) === 0)) {
    try {
      using file = Deno.openSync(source, { read: true });
      // Only an empty file costs a read: one byte says whether it really is.
      if (info.size === 0) unknownSize = (file.readSync(new Uint8Array(1)) ?? 0) > 0;
    } catch (error) {
      return error;
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
    ...(unknownSize ? { unknownSize } : {}),
  });
  if (info.isFile) {
    manifest.files++;
    manifest.bytes += size;
  } else {
    manifest.directories++;
  }
  return undefined;
}

/**
 * Adds a symlink inside a folder as a symlink when its target stays inside the
 * tree sent (PROTOCOL.md, "Symbolic links"); else returns why it is skipped.
 */
function addLink(manifest: SourceManifest, path: string, source: string): string | undefined {
  let raw: string;
  try {
    raw = Deno.readLinkSync(source);
  } catch (error) {
    return osReason(error);
  }
  const target = canonicalLinkTarget(raw);
  try {
    if (target === undefined) {
      throw new RangeError(`its target ${JSON.stringify(raw)} is absolute or climbs after a name`);
    }
    checkLinkTarget(path, target);
  } catch (error) {
    return `only a link whose target stays inside the folder sent is kept; ${osReason(error)}`;
  }
  if (manifest.entries.length >= LIMITS.maxEntries) {
    throw new RangeError(`Cannot send: more than ${LIMITS.maxEntries} files and directories`);
  }
  manifest.entries.push({
    kind: "symlink",
    path,
    source,
    target,
    size: new TextEncoder().encode(target).length,
    mode: 0o777,
    mtimeMs: null,
    snapshot: { size: 0, mtimeMs: null, ctimeMs: null, ino: null },
  });
  manifest.links++;
  return undefined;
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
  walker: { signal?: AbortSignal; turns: EventLoopTurns },
) {
  // Sync calls: a promise and a thread hop per entry cost more than the
  // system call. The event loop gets a turn now and then, so a cancel is seen.
  await walker.turns.turn();
  let names: string[];
  try {
    // Sorted as strings by UTF-16 code units, natively: a compare function per pair was 15% of a walk.
    names = Array.from(Deno.readDirSync(absolute), (child) => child.name).sort();
  } catch (error) {
    if (!relative.includes("/")) throw wrapFsError(error, "read directory", absolute);
    // The folder was added just before its walk: it goes, with what is in it.
    manifest.entries.pop();
    manifest.directories--;
    manifest.skipped.push({ path: relative, kind: "unreadable", detail: osReason(error) });
    return;
  }
  for (const name of names) {
    walker.signal?.throwIfAborted();
    const childRelative = `${relative}/${name}`;
    // `absolute` is resolved and a name holds no separator: `join`'s normalizing is not needed.
    const childAbsolute = absolute + SEP + name;
    // A name every receiver would refuse (the rules it applies), said after the path given.
    const badName = relativePathProblem(childRelative);
    if (badName) {
      manifest.skipped.push({ path: childRelative, kind: "name", detail: badName });
      continue;
    }
    let info: Deno.FileInfo;
    try {
      info = Deno.lstatSync(childAbsolute);
    } catch (error) {
      manifest.skipped.push(
        notUtf8(childRelative, error) ?? {
          path: childRelative,
          kind: "unreadable",
          detail: osReason(error),
        },
      );
      continue;
    }
    if (info.isSymlink) {
      const why = addLink(manifest, childRelative, childAbsolute);
      if (why) manifest.skipped.push({ path: childRelative, kind: "symlink", detail: why });
      continue;
    }
    if (!info.isFile && !info.isDirectory) {
      manifest.skipped.push({ path: childRelative, kind: skippedKind(info) });
      continue;
    }
    const error = add(manifest, childRelative, childAbsolute, info);
    if (error) {
      manifest.skipped.push({ path: childRelative, kind: "unreadable", detail: osReason(error) });
      continue;
    }
    if (info.isDirectory) await walk(manifest, childRelative, childAbsolute, walker);
  }
}

/**
 * Deno reads names lossily, so a name that is not valid UTF-8 arrives with
 * U+FFFD in place of its bad bytes and then cannot be found: say so, instead
 * of "No such file or directory".
 */
function notUtf8(path: string, error: unknown): SkippedEntry | undefined {
  if (!(error instanceof Deno.errors.NotFound) || !path.includes("\ufffd")) return undefined;
  return {
    path,
    kind: "name",
    detail: "the name is not valid UTF-8 (each \\ufffd stands for bytes that are not); rename it",
  };
}
