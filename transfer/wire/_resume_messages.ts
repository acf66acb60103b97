/** PLAN and DECISIONS payloads: the resume handshake (layouts in ../PROTOCOL.md). */
import { ProtocolError } from "../../base/mod.ts";
import { DIGEST_BYTES } from "./_frame.ts";
import { batch } from "./_batch.ts";
import { type Decision, getU64, need, type PlanItem, setU64 } from "./_messages.ts";

const PLAN_ITEM_BYTES = 4 + 1 + 8 + DIGEST_BYTES;
const DECISION_BYTES = 5;
const PLAN_KINDS = ["exists", "partial", "unholdable", "kept"] as const;
const PLAN_END_KEEP_EXISTING = 1;
const PLAN_END_INLINE = 2;

export interface PlanEnd {
  items: number;
  /** The receiver keeps an existing different file instead of writing beside it: answer `keep`. */
  keepExisting: boolean;
  /** Version 5: the receiver takes a small transfer's data on the control stream (START inline). */
  inline?: boolean;
}

export function encodePlanEnd(end: PlanEnd): Uint8Array {
  const out = new Uint8Array(5);
  new DataView(out.buffer).setUint32(0, end.items);
  out[4] = (end.keepExisting ? PLAN_END_KEEP_EXISTING : 0) | (end.inline ? PLAN_END_INLINE : 0);
  return out;
}

export function decodePlanEnd(payload: Uint8Array): PlanEnd {
  const view = need(payload, 5, "PLAN_END");
  return {
    items: view.getUint32(0),
    keepExisting: (view.getUint8(4) & PLAN_END_KEEP_EXISTING) !== 0,
    inline: (view.getUint8(4) & PLAN_END_INLINE) !== 0,
  };
}

export function encodePlanItem(item: PlanItem): Uint8Array {
  const out = new Uint8Array(PLAN_ITEM_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, item.index);
  view.setUint8(4, PLAN_KINDS.indexOf(item.kind) + 1);
  setU64(view, 5, item.length);
  out.set(item.sha256, 13);
  return out;
}

export function* batchPlan(items: Iterable<PlanItem>): Generator<Uint8Array> {
  yield* batch(items, encodePlanItem, 256 * 1024);
}

export function decodePlan(payload: Uint8Array): PlanItem[] {
  return decodeRecords(payload, PLAN_ITEM_BYTES, "PLAN", (view, offset) => {
    const kind = PLAN_KINDS[view.getUint8(offset + 4) - 1];
    if (kind === undefined) {
      throw new ProtocolError(`Cannot decode PLAN: unknown kind ${view.getUint8(offset + 4)}`);
    }
    return {
      index: view.getUint32(offset),
      kind,
      length: getU64(view, offset + 5, "PLAN length"),
      sha256: payload.slice(offset + 13, offset + PLAN_ITEM_BYTES),
    };
  });
}

const ACTIONS = ["send", "resume", "skip", "keep"] as const;

export function* batchDecisions(decisions: Iterable<Decision>): Generator<Uint8Array> {
  yield* batch(decisions, (decision) => {
    const out = new Uint8Array(DECISION_BYTES);
    new DataView(out.buffer).setUint32(0, decision.index);
    out[4] = ACTIONS.indexOf(decision.action);
    return out;
  }, 256 * 1024);
}

export function decodeDecisions(payload: Uint8Array): Decision[] {
  return decodeRecords(payload, DECISION_BYTES, "DECISIONS", (view, offset) => {
    const action = ACTIONS[view.getUint8(offset + 4)];
    if (action === undefined) {
      throw new ProtocolError(
        `Cannot decode DECISIONS: unknown action ${view.getUint8(offset + 4)}`,
      );
    }
    return { index: view.getUint32(offset), action };
  });
}

/** Decodes a payload of fixed-size records, `size` bytes each. */
function decodeRecords<T>(
  payload: Uint8Array,
  size: number,
  name: string,
  decode: (view: DataView, offset: number) => T,
): T[] {
  if (payload.length % size !== 0) {
    throw new ProtocolError(
      `Cannot decode ${name}: ${payload.length} bytes is not a multiple of ${size}`,
    );
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
  const records: T[] = [];
  for (let offset = 0; offset < payload.length; offset += size) records.push(decode(view, offset));
  return records;
}
