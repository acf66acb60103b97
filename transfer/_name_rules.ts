/** Receiver: find out what the file system under the output folder cannot hold. */
import { dirname, join } from "../base/path.ts";
import type { NameRules } from "./_path_safety.ts";

/**
 * Windows rules apply on Windows only. Case-insensitivity is probed in the
 * nearest existing folder of `outDir`: a temporary name is created and its
 * case-swapped twin looked up (macOS, Windows and some mounts ignore case).
 * Synchronous: it runs between the offer and the plan, on a small transfer's
 * path, where each of its four asynchronous calls waited for Deno's thread
 * pool (a fresh process's first ones took 8-60 ms at load 8, these 2-6 ms).
 */
export function probeNameRules(outDir: string): NameRules {
  let dir = outDir;
  while (!isDirectory(dir)) {
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  const probe = Deno.makeTempFileSync({ dir, prefix: ".p2pft-case-probe-" });
  try {
    const name = probe.slice(dir.length).replace(/^[\\/]+/, "");
    const twin = join(dir, name.toUpperCase());
    return { caseInsensitive: exists(twin), windows: Deno.build.os === "windows" };
  } finally {
    Deno.removeSync(probe);
  }
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
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
