/**
 * The free space of the file system a path is (or will be) on. node:fs (the only way to statfs in
 * Deno 2.9.6) is loaded on the first call, not with base/: any of node:fs, node:net, node:tls or
 * node:crypto starts Deno's Node compatibility layer, ~45 ms of a process's main thread, and every
 * command imports base/ before it runs. A receiver asks only for an offer of at least 1 MiB
 * (transfer/_receive_space.ts): node:fs is ~45 ms of CPU more than the node:dgram it loads anyway.
 */
import { dirname } from "./path.ts";

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
export async function freeSpace(path: string): Promise<FreeSpace | undefined> {
  const { statfsSync } = await import("node:fs");
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
