import { buildManifest } from "./_manifest.ts";

/**
 * Stats the inputs up front so the CLI can fail fast with a clear error:
 * missing or unreadable paths throw (the Deno error class, path in the
 * message), unsafe or case-colliding names throw `UnsafePathError`.
 */
export async function scanPaths(
  paths: string[],
  options: { signal?: AbortSignal } = {},
): Promise<{ files: number; directories: number; bytes: number; skippedSymlinks: string[] }> {
  const manifest = await buildManifest(paths, options);
  return {
    files: manifest.files,
    directories: manifest.directories,
    bytes: manifest.bytes,
    skippedSymlinks: manifest.skippedSymlinks,
  };
}
