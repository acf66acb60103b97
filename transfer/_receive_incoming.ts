/**
 * Receiver, after the sender decided: check its decisions against our plan,
 * list what will arrive (in manifest order, each at its target), and create
 * and finish the folders.
 */
import { ProtocolError, toHex, TransferRefusedError } from "../base/mod.ts";
import { type Decision, FILE_TRAILER_BYTES, type ManifestEntry, type Start } from "./wire/mod.ts";
import type { IncomingFile } from "./_receive_data.ts";
import type { TargetPlan } from "./_receive_plan.ts";

export interface Incoming {
  files: IncomingFile[];
  known: Map<string, { size: number; sha256: string }>;
  /** Files not written: the receiver keeps a different one of that name (`keep`), with why. */
  kept: Map<number, string>;
  /** Entries written beside an existing one of their name: manifest path and where (relative). */
  renamed: Array<{ path: string; as: string }>;
  skippedFiles: number;
  skippedBytes: number;
  resumedFiles: number;
  resumedBytes: number;
}

/** Which decisions each PLAN item kind allows. */
function allowed(kind: string | undefined, action: Decision["action"], plan: TargetPlan): boolean {
  switch (kind) {
    case "exists":
      // Identical: skip; different: beside it (rename) or kept (skip).
      return action === "skip" || action === (plan.onExisting === "skip" ? "keep" : "send");
    case "unholdable":
    case "kept":
      return action === "skip";
    case "partial":
      return action === "send" || action === "resume";
    default:
      return false;
  }
}

/** Checks the sender's decisions against our plan and lists what will arrive, in order. */
export function planIncoming(
  entries: ManifestEntry[],
  plan: TargetPlan,
  decisions: Decision[],
  start: Start,
): Incoming {
  const actions = checkDecisions(plan, decisions, start);
  const incoming: Incoming = {
    files: [],
    known: new Map(),
    kept: new Map(plan.kept),
    renamed: [],
    skippedFiles: 0,
    skippedBytes: 0,
    resumedFiles: 0,
    resumedBytes: 0,
  };
  const skipped = new Set<number>();
  let dataBytes = 0;
  for (const [index, entry] of entries.entries()) {
    if (entry.kind !== "file" || plan.unholdable.has(index) || plan.kept.has(index)) continue;
    const action = actions.get(index)?.action ?? "send";
    if (action === "keep") {
      incoming.kept.set(index, "a different file with this name exists here and is kept");
    } else if (action === "skip") {
      skipped.add(index);
      const sha256 = toHex(plan.hashes.get(index)!.digest());
      incoming.known.set(entry.path, { size: entry.size, sha256 });
      incoming.skippedFiles++;
      incoming.skippedBytes += entry.size;
    } else {
      const offset = action === "resume" ? actions.get(index)!.length : 0;
      incoming.files.push(incomingFile(plan, index, entry, offset));
      dataBytes += entry.size - offset + FILE_TRAILER_BYTES;
      if (offset > 0) {
        incoming.resumedFiles++;
        incoming.resumedBytes += offset;
      }
    }
  }
  if (dataBytes !== start.dataBytes) {
    throw new ProtocolError(
      `Cannot decode START: ${start.dataBytes} data bytes announced, ${dataBytes} expected`,
    );
  }
  // An identical file was skipped, not renamed: only what is written beside counts.
  for (const clash of plan.clashes) {
    if (clash.as !== undefined && !skipped.has(clash.index)) {
      incoming.renamed.push({ path: clash.path, as: clash.as });
    }
  }
  return incoming;
}

/** Each plan item's decision (with the length a resume starts at), once each, as the plan allows. */
function checkDecisions(
  plan: TargetPlan,
  decisions: Decision[],
  start: Start,
): Map<number, { action: Decision["action"]; length: number }> {
  const items = new Map(plan.items.map((item) => [item.index, item]));
  const actions = new Map<number, { action: Decision["action"]; length: number }>();
  for (const { index, action } of decisions) {
    const item = items.get(index);
    if (actions.has(index) || !allowed(item?.kind, action, plan)) {
      throw new ProtocolError(
        `Cannot decode DECISIONS: ${action} for index ${index} does not match the plan`,
      );
    }
    actions.set(index, { action, length: item!.length });
  }
  if (actions.size !== plan.items.length || start.decisions !== decisions.length) {
    throw new ProtocolError(
      `Cannot decode DECISIONS: ${decisions.length} decisions (START says ${start.decisions}) for ${plan.items.length} plan items`,
    );
  }
  return actions;
}

/** A file sent from `offset` (a resumed one continues its prefix's SHA-256). */
function incomingFile(
  plan: TargetPlan,
  index: number,
  entry: ManifestEntry,
  offset: number,
): IncomingFile {
  return {
    path: entry.path,
    target: plan.targets[index],
    size: entry.size,
    offset,
    hash: offset > 0 ? plan.hashes.get(index)! : undefined,
    mode: entry.mode,
    mtimeMs: entry.mtimeMs,
    unknownSize: entry.unknownSize,
    ...(plan.inStaging[index] ? { staged: true } : {}),
  };
}

/** Whether the entry at `index` is written at all. */
export function written(plan: TargetPlan, index: number, kept: Map<number, string>): boolean {
  return !plan.unholdable.has(index) && !kept.has(index);
}

/** Sync calls, as for files (see _publish.ts). */
export function createDirectories(
  outDir: string,
  entries: ManifestEntry[],
  plan: TargetPlan,
  kept: Map<number, string>,
): void {
  if (plan.createOutDir) Deno.mkdirSync(outDir, { recursive: true });
  for (const [index, entry] of entries.entries()) {
    if (entry.kind !== "directory" || plan.existingDirectories.has(index)) continue;
    if (!written(plan, index, kept)) continue;
    Deno.mkdirSync(plan.targets[index], { mode: 0o700 });
  }
}

/** The manifest paths written (not left out as unholdable or kept). */
export function writtenPaths(
  entries: ManifestEntry[],
  plan: TargetPlan,
  kept: Map<number, string>,
): Set<string> {
  const paths = new Set<string>();
  for (const [index, entry] of entries.entries()) {
    if (written(plan, index, kept)) paths.add(entry.path);
  }
  return paths;
}

/**
 * Modes and mtimes of the directories we created, in this run or an interrupted one, deepest
 * first (children change parents' mtimes).
 */
export function finishDirectories(
  entries: ManifestEntry[],
  plan: TargetPlan,
  kept: Map<number, string>,
): void {
  for (let index = entries.length - 1; index >= 0; index--) {
    const entry = entries[index];
    if (entry.kind !== "directory") continue;
    if (plan.existingDirectories.has(index) && !plan.unfinishedDirectories.has(index)) continue;
    if (!written(plan, index, kept)) continue;
    const path = plan.targets[index];
    if (Deno.build.os !== "windows") Deno.chmodSync(path, entry.mode & 0o777);
    if (entry.mtimeMs !== null) Deno.utimeSync(path, new Date(), new Date(entry.mtimeMs));
  }
}

/**
 * The symlinks, once every file is published (nothing is ever written through
 * one). `symlink` fails if the name appeared meanwhile: never replaced.
 */
export function createLinks(
  entries: ManifestEntry[],
  plan: TargetPlan,
  kept: Map<number, string>,
): void {
  for (const [index, entry] of entries.entries()) {
    if (entry.kind !== "symlink" || !written(plan, index, kept)) continue;
    const path = plan.targets[index];
    try {
      Deno.symlinkSync(entry.target!, path);
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      // One an interrupted run made in its own staging folder is made again.
      if (plan.inStaging[index] && remakeSymlink(path, entry.target!)) continue;
      throw new TransferRefusedError(
        `Refusing to overwrite ${entry.path}: ${path} appeared during the transfer`,
        { cause: error },
      );
    }
  }
}

/**
 * Makes the symlink at `path` again if a symlink is there; false if something else is. Only
 * once the name was found taken: an lstat per link first cost a failed call (and its error
 * object) per link of a fresh staging folder.
 */
function remakeSymlink(path: string, target: string): boolean {
  if (!Deno.lstatSync(path).isSymlink) return false;
  Deno.removeSync(path);
  Deno.symlinkSync(target, path);
  return true;
}
