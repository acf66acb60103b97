/**
 * Whether a failed receive left anything to resume from, looked at on disk when it is said: the
 * output folder (or a partial in it) may have been deleted while the transfer ran.
 */
import { join } from "../base/mod.ts";
import { PARTIAL_SUFFIX } from "./_path_safety.ts";

/**
 * True when `outDir` holds a partial (NAME.p2pft-partial, a staging folder `.NAME.p2pft-partial`)
 * at its top or inside one of the offered top-level folders (`names`) that exist there; only those
 * are walked, so a big output folder is not.
 */
export function hasKeptPartials(outDir: string, names: ReadonlySet<string>): boolean {
  try {
    for (const entry of Deno.readDirSync(outDir)) {
      if (entry.name.endsWith(PARTIAL_SUFFIX)) return true;
      if (entry.isDirectory && names.has(entry.name) && holdsPartial(join(outDir, entry.name))) {
        return true;
      }
    }
  } catch (error) {
    // Gone while we looked: nothing there. Unreadable: it may still be there, so it is said.
    return !(error instanceof Deno.errors.NotFound);
  }
  return false;
}

function holdsPartial(directory: string): boolean {
  for (const entry of Deno.readDirSync(directory)) {
    if (entry.name.endsWith(PARTIAL_SUFFIX)) return true;
    if (entry.isDirectory && holdsPartial(join(directory, entry.name))) return true;
  }
  return false;
}
