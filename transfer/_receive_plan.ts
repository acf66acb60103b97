/**
 * Receiver: the plan of what an offer does in `outDir` (`TargetPlan`). The survey
 * (_receive_survey.ts) fills it without writing anything; once the offer is
 * accepted, `hashTarget` adds the SHA-256 of same-size finals and partials. An
 * existing name is never overwritten nor followed: the entry is written beside it
 * under a free name (`name (1).ext`) or not at all, as the receiver chose (`OnExisting`).
 */
import { hashFilePrefix } from "./_hash_file.ts";
import type { Sha256 } from "./_sha256.ts";
import type { PlanItem } from "./wire/mod.ts";
import type { StagedFolder } from "./_staging.ts";

/** What happens to an entry whose name exists at the receiver: beside it, or not at all. */
export type OnExisting = "rename" | "skip";

/** An offered name that already exists in `outDir`. */
export interface Clash {
  index: number;
  path: string;
  /** Where it is written instead (relative to outDir), with `rename`. */
  as?: string;
  /** An existing file of the offered size: skipped instead when identical (the sender compares). */
  sameSize: boolean;
}

export interface TargetPlan {
  /** Sent to the sender: existing finals and partials with their SHA-256, names not written. */
  items: PlanItem[];
  /** SHA-256 state of each planned file's existing bytes, by manifest index. */
  hashes: Map<number, Sha256>;
  /** Manifest indexes of directories that already exist. */
  existingDirectories: Set<number>;
  /**
   * Of those, the ones an interrupted run of this offer created: still the 0700 a folder has
   * while it is received, and holding only offered names and partials. They get the sender's
   * mode and mtime at the end, as folders this run creates do.
   */
  unfinishedDirectories: Set<number>;
  /** Whether outDir itself must be created. */
  createOutDir: boolean;
  /** Manifest indexes this file system cannot hold (not written), with the reason. */
  unholdable: Map<number, string>;
  /** Manifest indexes not written because the receiver keeps what is there, with the reason. */
  kept: Map<number, string>;
  /** Where each entry is written (a free name for a renamed one; inside its staging folder). */
  targets: string[];
  /** Folders received into a staging folder, published by one rename each (_staging.ts). */
  staged: StagedFolder[];
  /** 1 for each entry inside a staging folder: a file there is written under its own name. */
  inStaging: Uint8Array;
  clashes: Clash[];
  onExisting: OnExisting;
  /** Existing bytes to hash once the offer is accepted. */
  toHash: Array<
    { index: number; kind: "exists" | "partial"; path: string; length: number; size: number }
  >;
}

/** Once accepted: the SHA-256 of every same-size final and partial, into PLAN items. */
export async function hashTarget(plan: TargetPlan, signal?: AbortSignal): Promise<void> {
  for (const { index, kind, path, length, size } of plan.toHash) {
    const hash = await hashFilePrefix(path, length, { signal, size });
    plan.items.push({ index, kind, length, sha256: hash.copy().digest() });
    plan.hashes.set(index, hash);
  }
}

/** Into a stream: nothing on disk is looked at (nothing skipped, resumed or renamed). */
export function sinkPlan(unholdable: Map<number, string>, entries: number): TargetPlan {
  return {
    items: [],
    hashes: new Map(),
    existingDirectories: new Set(),
    unfinishedDirectories: new Set(),
    createOutDir: false,
    unholdable,
    kept: new Map(),
    targets: new Array(entries).fill(""),
    staged: [],
    inStaging: new Uint8Array(entries),
    clashes: [],
    onExisting: "rename",
    toHash: [],
  };
}
