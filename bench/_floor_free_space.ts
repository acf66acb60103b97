/**
 * base/free_space.ts for deno-floor-pake (bench/floor_pake.json maps it here): the one module of
 * base/ that imports Node built-ins (node:fs, node:path), which bootstrap Deno's Node layer in any
 * process that imports base/mod.ts, whether or not it checks free space. The floor never does.
 */
export interface FreeSpace {
  bytes: number;
  blockBytes: number;
}

export function freeSpace(_path: string): FreeSpace | undefined {
  return undefined;
}
