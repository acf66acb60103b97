/**
 * The one "write all of these bytes" helper: a socket's or a file's write may
 * take only part of what it is given (`Deno.Conn`, `Deno.FsFile`), so every
 * caller that must hand over a whole frame or chunk writes through this.
 *
 * @module
 */

/** A target whose write may take fewer bytes than given and says how many. */
export interface PartialWriter {
  write(bytes: Uint8Array): Promise<number>;
}

/** The same as {@link PartialWriter}, as a sync call. */
export interface PartialWriterSync {
  writeSync(bytes: Uint8Array): number;
}

/** Writes all of `bytes` to `to`, one write after another until none is left. */
export async function writeAll(to: PartialWriter, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length;) offset += await to.write(bytes.subarray(offset));
}

/** Writes all of `bytes` to `to` with sync calls. */
export function writeAllSync(to: PartialWriterSync, bytes: Uint8Array): void {
  for (let offset = 0; offset < bytes.length;) offset += to.writeSync(bytes.subarray(offset));
}
