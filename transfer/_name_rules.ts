/** Receiver: find out what the file system under the output folder cannot hold. */
import { dirname, join } from "../base/path.ts";
import type { NameRules } from "./_path_safety.ts";

/**
 * Windows rules apply on Windows only. Case-insensitivity is probed in the
 * nearest existing folder of `outDir`: a temporary name is created and its
 * case-swapped twin looked up (macOS, Windows and some mounts ignore case).
 */
export async function probeNameRules(outDir: string): Promise<NameRules> {
  let dir = outDir;
  while (!(await isDirectory(dir))) {
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  const probe = await Deno.makeTempFile({ dir, prefix: ".p2pft-case-probe-" });
  try {
    const name = probe.slice(dir.length).replace(/^[\\/]+/, "");
    const twin = join(dir, name.toUpperCase());
    return { caseInsensitive: await exists(twin), windows: Deno.build.os === "windows" };
  } finally {
    await Deno.remove(probe);
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
