/** The free space of the file system a path is (or will be) on. */
import { statfsSync } from "node:fs";
import { dirname } from "node:path";

export interface FreeSpace {
  /** Bytes an unprivileged user may still write (statfs's bavail × bsize). */
  bytes: number;
  /** The file system's block size: a file takes whole blocks. */
  blockBytes: number;
}

/**
 * The free space where `path` is, or where it would be made (its nearest existing parent);
 * undefined when the system cannot tell (no statfs here): the caller then does not check.
 */
export function freeSpace(path: string): FreeSpace | undefined {
  for (let at = path;;) {
    try {
      const { bavail, bsize } = statfsSync(at);
      return { bytes: bavail * bsize, blockBytes: bsize };
    } catch (error) {
      const parent = dirname(at);
      if ((error as { code?: unknown }).code !== "ENOENT" || parent === at) return undefined;
      at = parent;
    }
  }
}
