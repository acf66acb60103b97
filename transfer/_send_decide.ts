/**
 * Sender, between offer and data: read the receiver's plan (its existing files
 * and partials, names it does not write) and decide per file: skip, resume,
 * send, or keep the receiver's.
 */
import { type ByteReader, equalBytes, ProtocolError, toHex } from "../base/mod.ts";
import { peerError } from "./_control.ts";
import {
  type Decision,
  decodeError,
  decodePlan,
  decodePlanEnd,
  FrameType,
  type PlanItem,
  readFrame,
} from "./wire/mod.ts";
import { hashFilePrefix } from "./_hash_file.ts";
import type { SourceManifest } from "./scan_paths.ts";
import type { NotWritten } from "./types.ts";
import type { OutgoingFile } from "./_send_data.ts";

/** Why the receiver does not write a file, by PLAN item kind. */
const NOT_WRITTEN = {
  unholdable: "the receiver's file system cannot hold this name",
  kept: "the receiver has a different entry with this name and keeps it",
} as const;

/** The receiver's PLAN: what it has of our files, and what it does with a different one. */
export interface Plan {
  items: PlanItem[];
  /** The receiver keeps a different existing file instead of writing beside it. */
  keepExisting: boolean;
  /** The receiver takes a small transfer's data on the control stream (version 5). */
  inline: boolean;
}

/** Reads PLAN items up to PLAN_END, each checked against the manifest we sent. */
export async function readPlan(
  reader: ByteReader,
  manifest: SourceManifest,
  onAsking?: () => void,
): Promise<Plan> {
  const items: PlanItem[] = [];
  const seen = new Set<number>();
  let asked = false;
  while (true) {
    const frame = await readFrame(reader, {
      // ASKING (version 5): once, before the plan.
      expect: [
        FrameType.PLAN,
        FrameType.PLAN_END,
        FrameType.ERROR,
        ...(asked || items.length > 0 ? [] : [FrameType.ASKING]),
      ],
      what: "resume plan",
    });
    if (frame.type === FrameType.ERROR) throw peerError(decodeError(frame.payload), "receiver");
    if (frame.type === FrameType.ASKING) {
      asked = true;
      onAsking?.();
      continue;
    }
    if (frame.type === FrameType.PLAN_END) {
      const end = decodePlanEnd(frame.payload);
      if (end.items !== items.length) {
        throw new ProtocolError(
          `Cannot decode PLAN_END: count ${end.items}, received ${items.length} items`,
        );
      }
      return { items, keepExisting: end.keepExisting, inline: end.inline ?? false };
    }
    for (const item of decodePlan(frame.payload)) {
      const entry = manifest.entries[item.index];
      // A file of unknown size is never compared with a file or resumed (it may be not written).
      const notSent = item.kind === "unholdable" || item.kind === "kept";
      const compared = entry?.unknownSize && !notSent;
      if (!entry || entry.kind !== "file" || compared || seen.has(item.index)) {
        throw new ProtocolError(
          `Cannot decode PLAN: item for index ${item.index} is not a new file entry`,
        );
      }
      const length = item.kind === "exists" ? entry.size : notSent ? 0 : undefined;
      if (item.length > entry.size || (length !== undefined && item.length !== length)) {
        throw new ProtocolError(
          `Cannot decode PLAN: ${item.kind} length ${item.length} does not fit ${entry.path} (${entry.size} bytes)`,
        );
      }
      seen.add(item.index);
      items.push(item);
    }
  }
}

export interface Decided {
  decisions: Decision[];
  outgoing: OutgoingFile[];
  known: Map<string, { size: number; sha256: string }>;
  /** Files the receiver does not write (a name it cannot hold, or an existing file it keeps). */
  notWritten: NotWritten[];
  skippedFiles: number;
  skippedBytes: number;
  resumedFiles: number;
  resumedBytes: number;
}

/** Compares the receiver's existing files and partials with ours (one pass, before any data). */
export async function decide(
  manifest: SourceManifest,
  plan: Plan,
  signal: AbortSignal,
): Promise<Decided> {
  const decided: Decided = {
    decisions: [],
    outgoing: [],
    known: new Map(),
    notWritten: [],
    skippedFiles: 0,
    skippedBytes: 0,
    resumedFiles: 0,
    resumedBytes: 0,
  };
  const byIndex = new Map(plan.items.map((item) => [item.index, item]));
  for (let index = 0; index < manifest.entries.length; index++) {
    const entry = manifest.entries[index];
    if (entry.kind !== "file") continue;
    const item = byIndex.get(index);
    const file = {
      path: entry.path,
      source: entry.source,
      size: entry.size,
      snapshot: entry.snapshot,
      stream: entry.stream,
      unknownSize: entry.unknownSize,
    };
    if (!item) {
      decided.outgoing.push({ ...file, offset: 0 });
      continue;
    }
    if (item.kind === "unholdable" || item.kind === "kept") {
      decided.decisions.push({ index, action: "skip" });
      decided.notWritten.push({
        path: entry.path,
        kind: item.kind === "kept" ? "exists" : "unholdable",
        reason: NOT_WRITTEN[item.kind],
      });
      continue;
    }
    const hash = await hashFilePrefix(entry.source, item.length, {
      signal,
      label: entry.path,
      size: entry.size,
    });
    const matches = equalBytes(hash.copy().digest(), item.sha256);
    if (item.kind === "exists" && !matches) {
      // Never overwritten: written beside it under a free name, or kept, as the receiver chose.
      if (plan.keepExisting) {
        decided.decisions.push({ index, action: "keep" });
        decided.notWritten.push({ path: entry.path, kind: "exists", reason: NOT_WRITTEN.kept });
      } else {
        decided.decisions.push({ index, action: "send" });
        decided.outgoing.push({ ...file, offset: 0 });
      }
      continue;
    }
    if (item.kind === "exists") {
      decided.decisions.push({ index, action: "skip" });
      decided.known.set(entry.path, { size: entry.size, sha256: toHex(hash.digest()) });
      decided.skippedFiles++;
      decided.skippedBytes += entry.size;
    } else if (matches) {
      decided.decisions.push({ index, action: "resume" });
      decided.outgoing.push({ ...file, offset: item.length, hash });
      decided.resumedFiles++;
      decided.resumedBytes += item.length;
    } else {
      decided.decisions.push({ index, action: "send" });
      decided.outgoing.push({ ...file, offset: 0 });
    }
  }
  return decided;
}
