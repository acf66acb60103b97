/** PLAN and DECISIONS payloads: the resume handshake (layouts in PROTOCOL.md). */
import { ProtocolError } from "../errors.ts";
import { DIGEST_BYTES } from "./_frame.ts";
import { batch, type Decision, getU64, type PlanItem, setU64 } from "./_messages.ts";

const PLAN_ITEM_BYTES = 4 + 1 + 8 + DIGEST_BYTES;
const DECISION_BYTES = 5;
const PLAN_KINDS = ["exists", "partial", "unholdable"] as const;

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
  if (payload.length % PLAN_ITEM_BYTES !== 0) {
    throw new ProtocolError(
      `Cannot decode PLAN: ${payload.length} bytes is not a multiple of ${PLAN_ITEM_BYTES}`,
    );
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
  const items: PlanItem[] = [];
  for (let offset = 0; offset < payload.length; offset += PLAN_ITEM_BYTES) {
    const kind = PLAN_KINDS[view.getUint8(offset + 4) - 1];
    if (kind === undefined) {
      throw new ProtocolError(`Cannot decode PLAN: unknown kind ${view.getUint8(offset + 4)}`);
    }
    items.push({
      index: view.getUint32(offset),
      kind,
      length: getU64(view, offset + 5, "PLAN length"),
      sha256: payload.slice(offset + 13, offset + PLAN_ITEM_BYTES),
    });
  }
  return items;
}

const ACTIONS = ["send", "resume", "skip"] as const;

export function* batchDecisions(decisions: Iterable<Decision>): Generator<Uint8Array> {
  yield* batch(decisions, (decision) => {
    const out = new Uint8Array(DECISION_BYTES);
    new DataView(out.buffer).setUint32(0, decision.index);
    out[4] = ACTIONS.indexOf(decision.action);
    return out;
  }, 256 * 1024);
}

export function decodeDecisions(payload: Uint8Array): Decision[] {
  if (payload.length % DECISION_BYTES !== 0) {
    throw new ProtocolError(
      `Cannot decode DECISIONS: ${payload.length} bytes is not a multiple of ${DECISION_BYTES}`,
    );
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
  const decisions: Decision[] = [];
  for (let offset = 0; offset < payload.length; offset += DECISION_BYTES) {
    const action = ACTIONS[view.getUint8(offset + 4)];
    if (action === undefined) {
      throw new ProtocolError(
        `Cannot decode DECISIONS: unknown action ${view.getUint8(offset + 4)}`,
      );
    }
    decisions.push({ index: view.getUint32(offset), action });
  }
  return decisions;
}
