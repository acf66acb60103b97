/**
 * The end of an offer: SKIPPED (what the sender found but cannot send, told
 * to the receiver before it accepts) and MANIFEST_END. Layouts in ../PROTOCOL.md.
 */
import { ProtocolError } from "../../base/mod.ts";
import { LIMITS } from "./_frame.ts";
import { batch } from "./_batch.ts";
import { need } from "./_messages.ts";

/** Why an entry inside a folder is not sent; the wire carries the index + 1. */
export const SKIP_KINDS = [
  "symlink",
  "fifo",
  "socket",
  "device",
  "unreadable",
  "name",
] as const;
/** `other`: a kind a newer sender knows and this receiver does not. */
export type SkipKind = typeof SKIP_KINDS[number] | "other";

/** An entry the sender found but does not send. */
export interface NotSent {
  /** Relative path as the sender has it (bytes that are not UTF-8 read as U+FFFD). */
  path: string;
  kind: SkipKind;
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function encodeNotSent(item: NotSent): Uint8Array {
  const path = utf8.encode(item.path).subarray(0, LIMITS.maxPathBytes);
  const out = new Uint8Array(3 + path.length);
  const view = new DataView(out.buffer);
  view.setUint8(0, SKIP_KINDS.indexOf(item.kind as typeof SKIP_KINDS[number]) + 1);
  view.setUint16(1, path.length);
  out.set(path, 3);
  return out;
}

/** SKIPPED payloads of at most ~256 KiB. */
export function* batchNotSent(items: Iterable<NotSent>): Generator<Uint8Array> {
  yield* batch(items, encodeNotSent, 256 * 1024);
}

export function decodeNotSent(payload: Uint8Array): NotSent[] {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
  const items: NotSent[] = [];
  let offset = 0;
  while (offset < payload.length) {
    if (payload.length - offset < 3) {
      throw new ProtocolError(`Cannot decode SKIPPED at byte ${offset}: truncated item`);
    }
    const kind = SKIP_KINDS[view.getUint8(offset) - 1] ?? "other";
    const length = view.getUint16(offset + 1);
    const start = offset + 3;
    if (length === 0 || length > LIMITS.maxPathBytes || start + length > payload.length) {
      throw new ProtocolError(`Cannot decode SKIPPED: a path of ${length} bytes does not fit`);
    }
    let path: string;
    try {
      path = strictUtf8.decode(payload.subarray(start, start + length));
    } catch (error) {
      throw new ProtocolError("Cannot decode SKIPPED: path is not valid UTF-8", { cause: error });
    }
    items.push({ path, kind });
    offset = start + length;
  }
  return items;
}

export interface ManifestEnd {
  entries: number;
  skipped: number;
}

export function encodeManifestEnd(end: ManifestEnd): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, end.entries);
  view.setUint32(4, end.skipped);
  return out;
}

export function decodeManifestEnd(payload: Uint8Array): ManifestEnd {
  const view = need(payload, 8, "MANIFEST_END");
  return { entries: view.getUint32(0), skipped: view.getUint32(4) };
}
