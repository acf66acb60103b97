/** The receiver's offer phase: what the offer would do in the output folder, and the person's yes. */
import { abortable, DECLINED_MESSAGE, DeclinedError, TransferRefusedError } from "../base/mod.ts";
import type { ControlStream } from "./_control_stream.ts";
import type { Hello, ManifestEntry, NotSent } from "./wire/mod.ts";
import type { ReceivedManifest } from "./_receive_manifest.ts";
import { sinkPlan, type TargetPlan } from "./_receive_plan.ts";
import { surveyTarget } from "./_receive_survey.ts";
import { probeNameRules } from "./_name_rules.ts";
import { type NameRules, unholdableNames } from "./_path_safety.ts";
import type { Offer, ReceiveFilesOptions } from "./types.ts";

/** The offer as the person accepted it, with what this side found on disk. */
export interface Accepted {
  hello: Hello;
  entries: ManifestEntry[];
  notSent: NotSent[];
  /** Some entry's size is known only once read. */
  unknownSize: boolean;
  /** Entries this file system cannot hold, with the reason. */
  unholdable: Map<number, string>;
  plan: TargetPlan;
}

/**
 * Offer phase: looks at the output folder (lstat only, so the person knows
 * what happens to names that exist) and asks `confirm`.
 */
export async function acceptOffer(
  control: ControlStream,
  { hello, entries, notSent }: ReceivedManifest,
  options: ReceiveFilesOptions & { asking: () => void },
): Promise<Accepted> {
  const { outDir, sink } = options;
  if (sink && (hello.files !== 1 || hello.directories !== 0)) {
    throw new TransferRefusedError(
      `Refusing an offer of ${count(hello.files, "file")} and ${
        count(hello.directories, "folder")
      }: receive --stdout takes one file only; receive them into a folder (without --stdout) with a new code`,
    );
  }
  // Into a stream: nothing on disk is looked at, so nothing is skipped or resumed.
  const unholdable = sink
    ? new Map<number, string>()
    : unholdableEntries(entries, options.nameRules ?? probeNameRules(outDir));
  const plan = sink ? sinkPlan(unholdable, entries.length) : await surveyTarget(
    outDir,
    entries,
    { signal: control.signal, unholdable, onExisting: options.onExisting ?? "rename" },
  );
  const accepted = {
    hello,
    entries,
    notSent,
    unknownSize: entries.some((entry) => entry.unknownSize),
    unholdable,
    plan,
  };
  const confirm = options.confirm;
  if (confirm && !(await abortable(confirm(shown(accepted), options.asking), control.signal))) {
    throw new DeclinedError(DECLINED_MESSAGE);
  }
  return accepted;
}

/** What the person is asked to accept: the manifest as offered, and what happens here. */
function shown({ hello, entries, notSent, unknownSize, unholdable, plan }: Accepted): Offer {
  // One file of unknown size is a stream (`send -`, a pseudo-file such as /proc/cpuinfo).
  const stream = unknownSize && entries.length === 1;
  return {
    files: hello.files,
    directories: hello.directories,
    bytes: hello.totalBytes,
    entries: entries.map(({ path, size, kind, unknownSize, target }) => ({
      path,
      size,
      kind,
      ...(unknownSize ? { unknownSize } : {}),
      ...(target !== undefined ? { target } : {}),
    })),
    ...(stream ? { unknownSize: true } : {}),
    ...(hello.allowChanging ? { allowChanging: true } : {}),
    notSent,
    existing: plan.clashes,
    onExisting: plan.onExisting,
    unholdable: [...unholdable].map(([index, reason]) => ({ path: entries[index].path, reason })),
    resumes: plan.toHash.filter((item) => item.kind === "partial")
      .map(({ index, length }) => ({ path: entries[index].path, bytes: length })),
  };
}

/** What this file system cannot hold; on Windows that includes symlinks (they need privileges). */
function unholdableEntries(entries: ManifestEntry[], rules: NameRules): Map<number, string> {
  const unholdable = unholdableNames(entries.map((entry) => entry.path), rules);
  if (!rules.windows) return unholdable;
  for (const [index, entry] of entries.entries()) {
    if (entry.kind === "symlink" && !unholdable.has(index)) {
      unholdable.set(index, "symbolic links are not created on Windows");
    }
  }
  return unholdable;
}

/** "1 folder", "2 folders". */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
