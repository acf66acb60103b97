/**
 * The path functions a command needs before its first event (the sender's scan, the names it
 * checks, the free-space walk) and a receiver's planning, as node:path's. node:path itself costs a fresh process ~20 ms of
 * its main thread (Deno 2.9.6 loads Node's util, assert, buffer and error modules with it), which
 * `send` would pay before it shows its offer. POSIX paths here, written out; Windows takes
 * node:path's own win32 functions.
 */
const win32 = Deno.build.os === "windows" ? await import("node:path") : undefined;

/** The platform's path separator. */
export const SEP: string = win32?.sep ?? "/";

/** node:path's `basename(path)`: the last segment, trailing separators ignored ("" for "/"). */
export function basename(path: string): string {
  if (win32) return win32.basename(path);
  const end = trimmedEnd(path);
  return path.slice(path.lastIndexOf("/", end - 1) + 1, end);
}

/** node:path's `dirname(path)`: everything before the last segment ("." without a separator). */
export function dirname(path: string): string {
  if (win32) return win32.dirname(path);
  if (path === "") return ".";
  // The separator before the last segment (trailing separators skipped), as node:path finds it.
  let end = -1;
  for (let index = path.length - 1, segment = false; index >= 1; index--) {
    if (path[index] !== "/") segment = true;
    else if (segment) {
      end = index;
      break;
    }
  }
  if (end === -1) return path.startsWith("/") ? "/" : ".";
  return path.startsWith("/") && end === 1 ? "//" : path.slice(0, end);
}

/** node:path's `join(...parts)`: the non-empty parts joined, then normalized ("." for none). */
export function join(...parts: string[]): string {
  if (win32) return win32.join(...parts);
  const joined = parts.filter((part) => part !== "").join("/");
  if (joined === "") return ".";
  const absolute = joined.startsWith("/");
  const body = normalized(joined, !absolute) || (absolute ? "" : ".");
  return (absolute ? "/" : "") + body + (joined.endsWith("/") && body !== "" ? "/" : "");
}

/**
 * node:path's `resolve(...parts)`: an absolute, normalized path, from the last absolute part (or
 * the current folder) on, without a trailing separator.
 */
export function resolve(...parts: string[]): string {
  if (win32) return win32.resolve(...parts);
  let path = "";
  for (let index = parts.length - 1; index >= -1 && !path.startsWith("/"); index--) {
    const part = index >= 0 ? parts[index] : Deno.cwd();
    if (part !== "") path = path === "" ? part : `${part}/${path}`;
  }
  return `/${normalized(path, false)}`;
}

/** node:path's `relative(from, to)`: the way from one resolved path to the other ("" for the same). */
export function relative(from: string, to: string): string {
  if (win32) return win32.relative(from, to);
  const segments = (path: string) => path === "/" ? [] : path.slice(1).split("/");
  const [here, there] = [segments(resolve(from)), segments(resolve(to))];
  let shared = 0;
  while (shared < here.length && shared < there.length && here[shared] === there[shared]) shared++;
  return [...here.slice(shared).map(() => ".."), ...there.slice(shared)].join("/");
}

/** The index where trailing separators start (0 when the path is all separators). */
function trimmedEnd(path: string): number {
  let end = path.length;
  while (end > 0 && path[end - 1] === "/") end--;
  return end;
}

/** The segments of `path` without empty ones, "." and resolved "..", joined by "/". */
function normalized(path: string, keepLeadingUp: boolean): string {
  const out: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment !== "..") out.push(segment);
    else if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
    else if (keepLeadingUp) out.push("..");
  }
  return out.join("/");
}
