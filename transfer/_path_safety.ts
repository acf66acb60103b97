/**
 * Rules for names received from the wire. A receiver creates nothing until
 * every manifest path passed `checkRelativePath` and the case-collision check.
 */
import { UnsafePathError } from "../errors.ts";
import { LIMITS } from "./_frame.ts";

/** Suffix of in-progress files; reserved, so no manifest path may end with it. */
export const PARTIAL_SUFFIX = ".p2pft-partial";

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$/i;
// C0 controls, DEL and C1 controls: matching them is the point.
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const DRIVE = /^[a-z]:/i;
const utf8 = new TextEncoder();

function quote(path: string): string {
  return JSON.stringify(path);
}

/** Throws `UnsafePathError` unless `path` is a safe relative POSIX path. */
export function checkRelativePath(path: string): void {
  const fail = (why: string): never => {
    throw new UnsafePathError(`Refusing unsafe path ${quote(path)}: ${why}`);
  };
  if (path.length === 0) fail("empty path");
  if (utf8.encode(path).length > LIMITS.maxPathBytes) {
    fail(`longer than ${LIMITS.maxPathBytes} bytes`);
  }
  if (path.startsWith("/") || DRIVE.test(path)) fail("absolute path");
  if (path.includes("\\")) fail("contains a backslash");
  if (path.includes("\u0000")) fail("contains NUL");
  if (CONTROL.test(path)) fail("contains a control character");
  for (const segment of path.split("/")) {
    if (segment === "") fail("empty path segment");
    if (segment === "." || segment === "..") fail(`contains a ${quote(segment)} segment`);
    if (WINDOWS_RESERVED.test(segment)) fail(`${quote(segment)} is a reserved name on Windows`);
    if (/[. ]$/.test(segment)) fail(`segment ${quote(segment)} ends with a dot or space`);
    if (utf8.encode(segment).length > LIMITS.maxSegmentBytes) {
      fail(`segment longer than ${LIMITS.maxSegmentBytes} bytes`);
    }
  }
  if (path.endsWith(PARTIAL_SUFFIX)) fail(`the ${PARTIAL_SUFFIX} suffix is reserved`);
}

/** Key under which two names collide on case-insensitive (and normalising) file systems. */
export function caseKey(path: string): string {
  return path.normalize("NFC").toLowerCase();
}

/** Groups of paths that differ only by case or Unicode normalisation. */
export function findCaseCollisions(paths: Iterable<string>): string[][] {
  const groups = new Map<string, string[]>();
  for (const path of paths) {
    const key = caseKey(path);
    const group = groups.get(key);
    if (group) group.push(path);
    else groups.set(key, [path]);
  }
  return [...groups.values()].filter((group) => group.length > 1);
}

/** Throws `UnsafePathError` listing every colliding group. */
export function assertNoCaseCollisions(paths: Iterable<string>): void {
  const collisions = findCaseCollisions(paths);
  if (collisions.length === 0) return;
  const shown = collisions.slice(0, 10).map((group) => group.map(quote).join(" / ")).join("; ");
  const more = collisions.length > 10 ? ` and ${collisions.length - 10} more` : "";
  throw new UnsafePathError(
    `Refusing names that collide on case-insensitive file systems: ${shown}${more}`,
  );
}
