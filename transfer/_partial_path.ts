/**
 * Where a received file's bytes wait until verified. Apart from _path_safety.ts, which the
 * sender's scan loads before its first event: the SHA-256 library comes only with the receiver.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { basename, dirname, join, toHex, utf8Length } from "../base/mod.ts";
import { NAME_MAX, PARTIAL_SUFFIX } from "./_path_safety.ts";

/**
 * `<name>.p2pft-partial` beside the file, or, for a name too long to take the suffix
 * (241..255 bytes), a name made from its SHA-256 (the same every run, so it is resumed too).
 */
export function partialPath(target: string): string {
  const name = basename(target);
  if (utf8Length(name) + PARTIAL_SUFFIX.length <= NAME_MAX) return target + PARTIAL_SUFFIX;
  const digest = toHex(sha256(new TextEncoder().encode(name))).slice(0, 32);
  return join(dirname(target), `.${digest}${PARTIAL_SUFFIX}`);
}
