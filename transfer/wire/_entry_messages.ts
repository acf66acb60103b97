/**
 * ENTRIES: the manifest's entries (layout in ../PROTOCOL.md, message table):
 * files, directories and, since version 4, symlinks whose target follows the
 * path. Decoders check structure only; path and target rules are separate.
 */
import { ProtocolError } from "../../base/mod.ts";
import { LIMITS } from "./_frame.ts";
import { getU64, type ManifestEntry, setU64 } from "./_messages.ts";

const ENTRY_FLAG_MTIME = 1;
const ENTRY_FLAG_UNKNOWN_SIZE = 2;
const ENTRY_FIXED_BYTES = 22;

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function text(bytes: Uint8Array, what: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch (error) {
    throw new ProtocolError(`Cannot decode manifest entry: ${what} is not valid UTF-8`, {
      cause: error,
    });
  }
}

const KINDS = ["file", "directory", "symlink"] as const;

/** Bytes one entry takes at most: its fixed part, a path and a symlink's target. */
const ENTRY_MAX_BYTES = ENTRY_FIXED_BYTES + 2 * LIMITS.maxPathBytes;

/**
 * Writes `text`'s UTF-8 at `offset` of `out` and returns the bytes written, or -1 when they do
 * not fit below `end`. An ASCII text (most paths) is copied in JS: a TextEncoder call per entry
 * cost 1 s of 200,000 entries' offer.
 */
function writeText(text: string, out: Uint8Array, offset: number, end: number): number {
  if (offset + text.length > end) return -1;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) {
      const { read, written } = utf8.encodeInto(text, out.subarray(offset, end));
      return read === text.length ? written : -1;
    }
    out[offset + i] = code;
  }
  return text.length;
}

/**
 * Writes one manifest entry (22 fixed bytes + path, then a symlink's target) at `offset` of
 * `out`, which has room for {@link ENTRY_MAX_BYTES} there; returns the offset after it. Straight
 * into the batch's buffer: an array per path, entry and view was most of an offer's encoding.
 */
function writeEntry(entry: ManifestEntry, out: Uint8Array, view: DataView, offset: number): number {
  if (entry.unknownSize && (entry.kind !== "file" || entry.size !== 0)) {
    throw new RangeError(`Cannot encode entry ${entry.path}: only an empty file has unknown size`);
  }
  const pathAt = offset + ENTRY_FIXED_BYTES;
  const limit = pathAt + LIMITS.maxPathBytes;
  const path = entry.path.length === 0 ? 0 : writeText(entry.path, out, pathAt, limit);
  if (path <= 0) {
    const bytes = utf8.encode(entry.path).length;
    throw new RangeError(
      `Cannot encode entry ${entry.path}: path is ${bytes} bytes, limit 1..${LIMITS.maxPathBytes}`,
    );
  }
  const target = entry.kind === "symlink"
    ? writeText(entry.target ?? "", out, pathAt + path, pathAt + path + LIMITS.maxPathBytes)
    : 0;
  if (target < 0) throw new RangeError(`Cannot encode entry ${entry.path}: its target is too long`);
  view.setUint8(offset, KINDS.indexOf(entry.kind));
  view.setUint8(
    offset + 1,
    (entry.mtimeMs === null ? 0 : ENTRY_FLAG_MTIME) |
      (entry.unknownSize ? ENTRY_FLAG_UNKNOWN_SIZE : 0),
  );
  view.setUint16(offset + 2, entry.mode & 0o7777);
  setU64(view, offset + 4, entry.kind === "symlink" ? target : entry.size);
  view.setFloat64(offset + 12, entry.mtimeMs ?? 0);
  view.setUint16(offset + 20, path);
  return pathAt + path + target;
}

/** Encodes one manifest entry (22 fixed bytes + path, then a symlink's target). */
export function encodeEntry(entry: ManifestEntry): Uint8Array {
  const out = new Uint8Array(ENTRY_MAX_BYTES);
  return out.slice(0, writeEntry(entry, out, new DataView(out.buffer), 0));
}

/** Bytes of entries an ENTRIES payload holds at most (one entry alone may be more). */
const ENTRIES_BATCH_BYTES = 256 * 1024;

/** Groups encoded entries into ENTRIES payloads of at most ~256 KiB. */
export function* batchEntries(entries: Iterable<ManifestEntry>): Generator<Uint8Array> {
  let out = new Uint8Array(ENTRIES_BATCH_BYTES + ENTRY_MAX_BYTES);
  let view = new DataView(out.buffer);
  let size = 0;
  for (const entry of entries) {
    const end = writeEntry(entry, out, view, size);
    if (end <= ENTRIES_BATCH_BYTES || size === 0) {
      size = end;
      continue;
    }
    // The entry does not fit this payload: the payload goes, and the entry starts the next one.
    const next = new Uint8Array(out.length);
    next.set(out.subarray(size, end));
    yield out.subarray(0, size);
    out = next;
    view = new DataView(out.buffer);
    size = end - size;
  }
  if (size > 0) yield out.subarray(0, size);
}

/** Decodes an ENTRIES payload (structure only; path safety is checked separately). */
export function decodeEntries(payload: Uint8Array): ManifestEntry[] {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
  const entries: ManifestEntry[] = [];
  let offset = 0;
  while (offset < payload.length) {
    if (payload.length - offset < ENTRY_FIXED_BYTES) {
      throw new ProtocolError(`Cannot decode manifest entry at byte ${offset}: truncated header`);
    }
    const kindByte = view.getUint8(offset);
    const flags = view.getUint8(offset + 1);
    const mode = view.getUint16(offset + 2);
    const size = getU64(view, offset + 4, "manifest entry size");
    const mtime = view.getFloat64(offset + 12);
    const pathLength = view.getUint16(offset + 20);
    if (kindByte >= KINDS.length) {
      throw new ProtocolError(`Cannot decode manifest entry: unknown kind ${kindByte}`);
    }
    if (flags > (ENTRY_FLAG_MTIME | ENTRY_FLAG_UNKNOWN_SIZE)) {
      throw new ProtocolError(`Cannot decode manifest entry: unknown flags ${flags}`);
    }
    const unknownSize = (flags & ENTRY_FLAG_UNKNOWN_SIZE) !== 0;
    if (unknownSize && (kindByte !== 0 || size !== 0)) {
      throw new ProtocolError(
        "Cannot decode manifest entry: unknown size on a directory or with a size",
      );
    }
    if (mode > 0o7777) {
      throw new ProtocolError(
        `Cannot decode manifest entry: mode 0o${mode.toString(8)} exceeds 0o7777`,
      );
    }
    if (kindByte === 1 && size !== 0) {
      throw new ProtocolError(`Cannot decode manifest entry: directory with size ${size}`);
    }
    if (kindByte === 2 && (size === 0 || size > LIMITS.maxPathBytes)) {
      throw new ProtocolError(
        `Cannot decode manifest entry: a symlink target of ${size} bytes, limit 1..${LIMITS.maxPathBytes}`,
      );
    }
    const hasMtime = (flags & ENTRY_FLAG_MTIME) !== 0;
    if (hasMtime && !Number.isFinite(mtime)) {
      throw new ProtocolError(`Cannot decode manifest entry: mtime ${mtime} is not finite`);
    }
    if (pathLength === 0 || pathLength > LIMITS.maxPathBytes) {
      throw new ProtocolError(
        `Cannot decode manifest entry: path length ${pathLength} outside 1..${LIMITS.maxPathBytes}`,
      );
    }
    const start = offset + ENTRY_FIXED_BYTES;
    const targetLength = kindByte === 2 ? size : 0;
    if (start + pathLength + targetLength > payload.length) {
      throw new ProtocolError(
        `Cannot decode manifest entry: path of ${pathLength} bytes runs past the frame`,
      );
    }
    const path = text(payload.subarray(start, start + pathLength), "path");
    const entry: ManifestEntry = {
      kind: KINDS[kindByte],
      path,
      size,
      mode,
      mtimeMs: hasMtime ? mtime : null,
    };
    if (unknownSize) entry.unknownSize = true;
    const end = start + pathLength;
    if (kindByte === 2) entry.target = text(payload.subarray(end, end + targetLength), "target");
    entries.push(entry);
    offset = end + targetLength;
  }
  return entries;
}
