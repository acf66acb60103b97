/**
 * Rules for names received from the wire. `checkRelativePath` refuses what is
 * unsafe on every system; `unholdableNames` finds what this receiver's file
 * system cannot hold (case collisions, Windows names), to skip and report.
 */
import { UnsafePathError, utf8Length } from "../base/mod.ts";
import { LIMITS } from "./wire/limits_mod.ts";

/** Suffix of in-progress files; reserved, so no manifest path may end with it. */
export const PARTIAL_SUFFIX = ".p2pft-partial";
/** Longest file name (bytes) on Linux, macOS and, in UTF-16 units, Windows. */
export const NAME_MAX = 255;

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$/i;
// C0 controls: Windows refuses them in names; matching them is the point.
// deno-lint-ignore no-control-regex
const WINDOWS_CONTROL = /[\u0001-\u001f]/;
const DRIVE = /^[a-z]:/i;

function quote(path: string): string {
  return JSON.stringify(path);
}

/** Throws `UnsafePathError` unless `path` is a safe relative POSIX path. */
export function checkRelativePath(path: string): void {
  const why = relativePathProblem(path);
  if (why !== undefined) throw new UnsafePathError(`Refusing unsafe path ${quote(path)}: ${why}`);
}

/** Why `path` is not a safe relative POSIX path ("absolute path"), or undefined when it is. */
export function relativePathProblem(path: string): string | undefined {
  if (path.length === 0) return "empty path";
  if (utf8Length(path) > LIMITS.maxPathBytes) return `longer than ${LIMITS.maxPathBytes} bytes`;
  if (path.startsWith("/") || DRIVE.test(path)) return "absolute path";
  // A backslash and control characters are ordinary on Linux and macOS: the
  // receiver's file system decides (unholdableNames), and the CLI escapes them.
  if (path.includes("\u0000")) return "contains NUL";
  for (const segment of path.split("/")) {
    if (segment === "") return "empty path segment";
    if (segment === "." || segment === "..") return `contains a ${quote(segment)} segment`;
    if (utf8Length(segment) > LIMITS.maxSegmentBytes) {
      return `segment longer than ${LIMITS.maxSegmentBytes} bytes`;
    }
  }
  if (path.endsWith(PARTIAL_SUFFIX)) {
    return `the ${PARTIAL_SUFFIX} suffix is reserved for what an interrupted receive keeps`;
  }
  return undefined;
}

/**
 * A symlink target as the sender reads it, in the one form a receiver accepts
 * (`checkLinkTarget`): `.` and empty segments dropped; undefined when it is
 * absolute or has `..` after a name (its meaning would depend on other links).
 */
export function canonicalLinkTarget(raw: string): string | undefined {
  if (raw.startsWith("/") || DRIVE.test(raw)) return undefined;
  const segments = raw.split("/").filter((segment) => segment !== "" && segment !== ".");
  const firstName = segments.findIndex((segment) => segment !== "..");
  if (firstName < 0 || segments.slice(firstName).includes("..")) return undefined;
  return segments.join("/");
}

/**
 * Throws `UnsafePathError` unless `target` keeps the symlink at `path` inside
 * the tree it was sent in: relative, `..` only at its start and no more of
 * them than folders between the link and the top of its tree, then names
 * that pass the name rules. Each `..` then climbs a real folder of the tree
 * (parents are folder entries, never links), and every name below stays in it.
 */
export function checkLinkTarget(path: string, target: string): void {
  const fail = (why: string): never => {
    throw new UnsafePathError(`Refusing symlink ${quote(path)} -> ${quote(target)}: ${why}`);
  };
  if (canonicalLinkTarget(target) !== target || target === "") {
    fail("its target must be relative, with .. only at its start");
  }
  const segments = target.split("/");
  const up = segments.filter((segment) => segment === "..").length;
  if (up > path.split("/").length - 2) fail("its target leaves the folder that was sent");
  const rest = segments.slice(up).join("/");
  try {
    checkRelativePath(rest);
  } catch (error) {
    fail((error as Error).message);
  }
}

/** Key under which two names collide on case-insensitive (and normalising) file systems. */
export function caseKey(path: string): string {
  return path.normalize("NFC").toLowerCase();
}

/** What the receiving file system cannot tell apart or create. */
export interface NameRules {
  /** Names differing only by case (or Unicode normalisation) are one name. */
  caseInsensitive: boolean;
  /** Windows rules: reserved device names, trailing dot or space, `<>:"|?*`. */
  windows: boolean;
}

const WINDOWS_FORBIDDEN = /[<>:"|?*]/;

function windowsProblem(segment: string): string | undefined {
  if (WINDOWS_RESERVED.test(segment)) return `${quote(segment)} is a reserved name on Windows`;
  if (segment.includes("\\")) return `${quote(segment)} contains a backslash`;
  if (WINDOWS_CONTROL.test(segment)) return `${quote(segment)} contains a control character`;
  if (/[. ]$/.test(segment)) return `${quote(segment)} ends with a dot or space`;
  if (WINDOWS_FORBIDDEN.test(segment)) return `${quote(segment)} contains one of <>:"|?*`;
  return undefined;
}

/**
 * Manifest indexes this file system cannot hold, with the reason: the later
 * names of a case-collision group (the first one is kept), names Windows
 * refuses, and everything inside a folder that is not held. Paths must already
 * have passed `checkRelativePath`, parents before children.
 */
export function unholdableNames(paths: readonly string[], rules: NameRules): Map<number, string> {
  const skipped = new Map<number, string>();
  if (!rules.caseInsensitive && !rules.windows) return skipped;
  const skippedDirs = new Map<string, string>();
  const held = new Map<string, string>();
  for (const [index, path] of paths.entries()) {
    const slash = path.lastIndexOf("/");
    const parent = slash >= 0 ? path.slice(0, slash) : undefined;
    let reason = parent === undefined
      ? undefined
      : skippedDirs.has(parent)
      ? `inside ${quote(skippedDirs.get(parent)!)}, which is not written`
      : undefined;
    if (reason === undefined && rules.windows) reason = windowsProblem(path.slice(slash + 1));
    if (reason === undefined && rules.caseInsensitive) {
      const other = held.get(caseKey(path));
      if (other !== undefined) reason = `same name as ${quote(other)} on this file system`;
      else held.set(caseKey(path), path);
    }
    if (reason === undefined) continue;
    skipped.set(index, reason);
    skippedDirs.set(
      path,
      parent !== undefined && skippedDirs.has(parent) ? skippedDirs.get(parent)! : path,
    );
  }
  return skipped;
}
