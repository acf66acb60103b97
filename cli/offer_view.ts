/**
 * What a person (and a script) is shown of an offer before accepting it:
 * every name for a few files; for a tree its top-level entries with counts and
 * sizes and its first files. Bounded whatever the offer's size: one pass over
 * the entries, at most LISTED_ENTRIES and TOP_ENTRIES kept.
 */
import type { Clash, NotSent, OnExisting, SkipKind } from "../transfer/mod.ts";
import { formatBytes } from "./format.ts";

/** What each kind of entry the sender does not send is called. */
export const SKIP_WORDS: Record<SkipKind, string> = {
  symlink: "symbolic link",
  fifo: "named pipe (FIFO)",
  socket: "socket",
  device: "device file",
  unreadable: "unreadable",
  name: "a name the transfer cannot carry",
  other: "not sendable",
};

/** One manifest entry as the `offer` and `manifest` events carry it. */
export interface OfferedEntry {
  path: string;
  kind: "file" | "directory" | "symlink";
  size: number;
  /** A file whose size is known only once read (a pseudo-file such as /proc/cpuinfo). */
  unknownSize?: boolean;
  /** A symlink's target (relative, inside the offer). */
  target?: string;
}

/** A top-level entry: for a folder, the files below it and their bytes. */
export interface TopEntry {
  path: string;
  kind: "file" | "directory" | "symlink";
  files: number;
  bytes: number;
}

export interface OfferView {
  /** The first LISTED_ENTRIES entries, in manifest order. */
  entries: OfferedEntry[];
  /** Entries not in `entries` (the receiver's `manifest` events carry them). */
  more: number;
  /** The first TOP_ENTRIES top-level entries. */
  top: TopEntry[];
  /** Top-level entries not in `top`. */
  topMore: number;
  /** The first LISTED_ENTRIES entries the sender found but does not send. */
  skipped: NotSent[];
  /** Those not in `skipped`. */
  skippedMore: number;
  /**
   * Receiver: the first offered names that already exist here; `as`: where each goes instead;
   * `sameSize`: the one here has the offered size, so it is skipped instead if identical.
   */
  existing?: Array<{ path: string; as?: string; sameSize?: true }>;
  existingMore?: number;
  /** Receiver: what happens to them (`--existing`). */
  onExisting?: OnExisting;
  /** Receiver: the first entries its file system cannot hold (not written), with why. */
  notWritten?: Array<{ path: string; reason: string }>;
  notWrittenMore?: number;
  /** Receiver: the first files an earlier run left partly here, `bytes` resumed if they match. */
  resumes?: Array<{ path: string; bytes: number }>;
  resumesMore?: number;
}

/** Entries an `offer` event lists; the rest follow in `manifest` events. */
export const LISTED_ENTRIES = 100;
/** Top-level entries an `offer` event lists. */
export const TOP_ENTRIES = 100;
/** Entries per `manifest` event (one line stays well under a megabyte). */
export const MANIFEST_CHUNK = 1000;
/** An offer of at most this many entries is listed whole in the prompt. */
const FEW = 10;
/** A tree's prompt shows this many top-level entries and this many of its first files. */
const SHOWN = 10;
const FIRST_FILES = 5;

/** An entry as the events carry it (nothing else of a manifest entry). */
export function offeredEntry(entry: OfferedEntry): OfferedEntry {
  const { path, kind, size, unknownSize, target } = entry;
  return {
    path,
    kind,
    size,
    ...(unknownSize ? { unknownSize } : {}),
    ...(target !== undefined ? { target } : {}),
  };
}

export function offerView(
  entries: ReadonlyArray<OfferedEntry>,
  notSent: ReadonlyArray<NotSent> = [],
  existing?: {
    clashes: ReadonlyArray<Clash>;
    onExisting: OnExisting;
    unholdable: ReadonlyArray<{ path: string; reason: string }>;
    resumes?: ReadonlyArray<{ path: string; bytes: number }>;
  },
): OfferView {
  const top: TopEntry[] = [];
  let topCount = 0;
  let current: TopEntry | undefined;
  for (const entry of entries) {
    const slash = entry.path.indexOf("/");
    if (slash < 0) {
      topCount++;
      current = { path: entry.path, kind: entry.kind, files: 0, bytes: 0 };
      if (top.length < TOP_ENTRIES) top.push(current);
      else current = undefined;
    }
    // Manifests list parents before children, so a child belongs to the last top-level entry.
    if (current && entry.kind === "file") {
      current.files++;
      current.bytes += entry.size;
    }
  }
  const listed = entries.slice(0, LISTED_ENTRIES).map(offeredEntry);
  return {
    entries: listed,
    more: entries.length - listed.length,
    top,
    topMore: topCount - top.length,
    skipped: notSent.slice(0, LISTED_ENTRIES).map(({ path, kind }) => ({ path, kind })),
    skippedMore: Math.max(0, notSent.length - LISTED_ENTRIES),
    ...(existing === undefined ? {} : {
      ...existingView(existing.clashes, existing.onExisting),
      notWritten: existing.unholdable.slice(0, LISTED_ENTRIES),
      notWrittenMore: Math.max(0, existing.unholdable.length - LISTED_ENTRIES),
      resumes: (existing.resumes ?? []).slice(0, LISTED_ENTRIES),
      resumesMore: Math.max(0, (existing.resumes ?? []).length - LISTED_ENTRIES),
    }),
  };
}

/** The offered names already here, as every `offer` event carries them (a stream's too). */
export function existingView(
  clashes: ReadonlyArray<Clash>,
  onExisting: OnExisting,
): Pick<OfferView, "existing" | "existingMore" | "onExisting"> {
  return {
    existing: clashes.slice(0, LISTED_ENTRIES).map(({ path, as, sameSize }) => ({
      path,
      ...(as === undefined ? {} : { as }),
      ...(sameSize ? { sameSize: true as const } : {}),
    })),
    existingMore: Math.max(0, clashes.length - LISTED_ENTRIES),
    onExisting,
  };
}

// Control characters and the bidirectional overrides that reorder what a terminal shows.
// deno-lint-ignore no-control-regex
const UNSHOWABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069"\\]/;

/** A name as a terminal can show it: quoted and escaped when it holds anything unprintable. */
export function shownName(name: string): string {
  if (!UNSHOWABLE.test(name)) return name;
  return JSON.stringify(name).replace(/[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, asEscape);
}

// deno-lint-ignore no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with control characters and bidi overrides written as `\uXXXX` (a line a terminal shows as is). */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, asEscape);
}

function asEscape(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

// deno-lint-ignore no-control-regex
const TEXT_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * A received text as the terminal may show it: lines and tabs kept, every other control character
 * (ESC, a CR not ending a line, C1, bidi overrides) written as `\uXXXX`, so a sender cannot drive
 * the receiver's terminal. `receive --stdout` writes the text as it came, for pipes.
 */
export function escapeTextControls(text: string): string {
  return text.replace(/\r\n/g, "\n").replace(TEXT_CONTROLS, asEscape);
}

function entryLine(entry: { path: string; kind: string }, detail: string): string {
  const slash = entry.kind === "directory" ? "/" : "";
  return `  ${shownName(entry.path)}${slash}  ${detail}`;
}

function count(n: number, one: string, many: string): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}

/**
 * The lines shown under the prompt: every entry of a few; else the top-level
 * entries with counts and sizes, then the first files.
 */
export function offerLines(view: OfferView): string[] {
  return [
    ...entryLines(view),
    ...skippedLines(view),
    ...existingLines(view),
    ...resumeLines(view),
    ...notWrittenLines(view),
  ];
}

/** Files an earlier run left partly here: where each resumes from ("resumes big.iso from 1.2 GB"). */
function resumeLines(view: OfferView): string[] {
  const listed = view.resumes ?? [];
  const count = listed.length + (view.resumesMore ?? 0);
  if (count === 0) return [];
  const shown = listed.slice(0, SHOWN)
    .map((item) => `${shownName(item.path)} from ${formatBytes(item.bytes)}`);
  const rest = count - shown.length;
  return [
    `  resumes ${shown.join(", ")}${
      rest > 0 ? `, and ${rest} more` : ""
    } (what an earlier run left, if it matches)`,
  ];
}

/** What this receiver's file system cannot hold, said before accepting. */
function notWrittenLines(view: OfferView): string[] {
  const listed = view.notWritten ?? [];
  const count = listed.length + (view.notWrittenMore ?? 0);
  if (count === 0) return [];
  const shown = listed.slice(0, SHOWN).map((item) => `${shownName(item.path)} (${item.reason})`);
  const rest = count - shown.length;
  return [`  not written here: ${shown.join(", ")}${rest > 0 ? `, and ${rest} more` : ""}`];
}

/** Names that exist here: where each goes instead, or that it is left out. Never overwritten. */
function existingLines(view: OfferView): string[] {
  const existing = view.existing ?? [];
  const count = existing.length + (view.existingMore ?? 0);
  if (count === 0) return [];
  const shown = existing.slice(0, SHOWN).map((item) =>
    item.as === undefined
      ? shownName(item.path)
      : `${shownName(item.path)} -> ${shownName(item.as)}${item.sameSize ? " if it differs" : ""}`
  );
  const rest = count - shown.length;
  const what = view.onExisting === "skip"
    ? "already here, left out (--existing skip; identical files count as received)"
    : "already here, written beside them (identical files are skipped)";
  return [`  ${what}: ${shown.join(", ")}${rest > 0 ? `, and ${rest} more` : ""}`];
}

function entryLines(view: OfferView): string[] {
  const total = view.entries.length + view.more;
  if (total <= FEW) {
    return view.entries.map((entry) =>
      entryLine(
        entry,
        entry.unknownSize
          ? "size unknown"
          : entry.kind === "file"
          ? formatBytes(entry.size)
          : entry.kind === "symlink"
          ? `-> ${shownName(entry.target ?? "")}`
          : "",
      ).trimEnd()
    );
  }
  const lines = view.top.slice(0, SHOWN).map((entry) =>
    entryLine(
      entry,
      entry.kind === "directory"
        ? `${count(entry.files, "file", "files")}, ${formatBytes(entry.bytes)}`
        : entry.kind === "file"
        ? formatBytes(entry.bytes)
        : "",
    ).trimEnd()
  );
  const hiddenTop = view.top.length - Math.min(view.top.length, SHOWN) + view.topMore;
  if (hiddenTop > 0) lines.push(`  ... and ${count(hiddenTop, "more entry", "more entries")}`);
  const first = view.entries.filter((entry) => entry.kind === "file" && entry.path.includes("/"))
    .slice(0, FIRST_FILES);
  if (first.length > 0) {
    lines.push(
      `  first files: ${
        first.map((entry) => `${shownName(entry.path)} (${formatBytes(entry.size)})`).join(", ")
      }`,
    );
  }
  return lines;
}

/** What the sender will not send, said before accepting (a few by name). */
function skippedLines(view: OfferView): string[] {
  const count = view.skipped.length + view.skippedMore;
  if (count === 0) return [];
  const shown = view.skipped.slice(0, SHOWN)
    .map((item) => `${shownName(item.path)} (${SKIP_WORDS[item.kind]})`);
  const rest = count - shown.length;
  return [
    `  not sent (the sender cannot): ${shown.join(", ")}${rest > 0 ? `, and ${rest} more` : ""}`,
  ];
}
