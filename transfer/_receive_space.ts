/**
 * Receiver, before asking: an offer the output folder's file system cannot hold is refused
 * then, not once the disk is full part-way (magic-wormhole's "insufficient free space").
 */
import { formatBytes, formatBytesAtLeast, freeSpace, NotEnoughSpaceError } from "../base/mod.ts";
import type { ManifestEntry } from "./wire/mod.ts";
import type { TargetPlan } from "./_receive_plan.ts";

/**
 * The bytes still to write at the least, in whole blocks as a full disk counts them (as
 * `DiskFullError`'s figure, so freeing what one says is enough for the other): each file past
 * what its partial holds. At the least: an existing file of the offered size may turn out
 * identical (skipped), a file of unknown size counts nothing, and folders count nothing, so
 * an offer that would fit is never refused.
 */
export function bytesToWrite(
  entries: ManifestEntry[],
  plan: TargetPlan,
  blockBytes: number,
): number {
  const blocks = (bytes: number) => Math.ceil(bytes / blockBytes) * blockBytes;
  const held = new Map<number, number>();
  for (const { index, kind, length } of plan.toHash) {
    held.set(index, kind === "partial" ? length : entries[index].size);
  }
  let needed = 0;
  for (const [index, entry] of entries.entries()) {
    if (entry.kind !== "file" || entry.unknownSize) continue;
    if (plan.unholdable.has(index) || plan.kept.has(index)) continue;
    needed += blocks(entry.size) - blocks(held.get(index) ?? 0);
  }
  return needed;
}

/**
 * Offers with less than this still to write are not checked: a file system's free space comes only
 * from node:fs in Deno 2.9.6, which costs a receiver ~45 ms of CPU (Deno's Node layer beyond
 * node:dgram, peer/PROTOCOL.md "Start-up"), a third of a small transfer's start-up, to spare it
 * what a full disk costs such an offer anyway: its first write fails with the disk-full error
 * (`DiskFullError`) and its partial keeps what arrived, within a mebibyte.
 */
export const CHECKED_FROM = 1024 * 1024;

/**
 * Throws `NotEnoughSpaceError` when what is still to write into `outDir` exceeds its free space;
 * offers that need less than {@link CHECKED_FROM} pass unchecked.
 */
export async function assertRoom(
  outDir: string,
  entries: ManifestEntry[],
  plan: TargetPlan,
): Promise<void> {
  if (bytesToWrite(entries, plan, 1) < CHECKED_FROM) return;
  const free = await freeSpace(outDir);
  if (free === undefined) return;
  const neededBytes = bytesToWrite(entries, plan, free.blockBytes);
  if (neededBytes <= free.bytes) return;
  const needs = formatBytesAtLeast(neededBytes);
  throw new NotEnoughSpaceError(
    `Not enough free space in ${outDir}: the offer needs ${needs} more, ${
      formatBytes(free.bytes)
    } is free`,
    { folder: outDir, neededBytes, freeBytes: free.bytes },
  );
}
