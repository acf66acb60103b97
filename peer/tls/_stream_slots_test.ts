import assert from "node:assert/strict";
import { ConnectionLostError, TimeoutError } from "../../base/mod.ts";
import type { Channel } from "./_channel.ts";
import { StreamSlots } from "./_stream_slots.ts";

/** A connection stand-in that only records whether it was closed. */
function channel(): Channel & { closed: boolean } {
  const stream = new TransformStream<Uint8Array, Uint8Array>();
  return {
    stream,
    closed: false,
    close() {
      this.closed = true;
    },
  };
}

Deno.test("StreamSlots hands a connection to its caller in either order", async () => {
  const slots = new StreamSlots();
  const early = channel();
  slots.put(1, early);
  assert.equal(await slots.take(1), early);
  const waiting = slots.take(3);
  assert.equal(slots.welcomes(3), true);
  const late = channel();
  slots.put(3, late);
  assert.equal(await waiting, late);
  assert.equal(slots.welcomes(3), false, "a second connection for a delivered id is refused");
});

Deno.test("StreamSlots refuses a connection for an id this side opened, unless awaited", async () => {
  const slots = new StreamSlots();
  slots.use(0);
  assert.equal(slots.welcomes(0), false);
  const waiting = slots.take(0);
  assert.equal(slots.welcomes(0), true);
  const arrived = channel();
  slots.put(0, arrived);
  assert.equal(await waiting, arrived);
});

Deno.test("StreamSlots times a caller out, and fails every wait when the link goes", async () => {
  const slots = new StreamSlots();
  await assert.rejects(slots.take(5, { ms: 1, message: "no stream 5" }), TimeoutError);
  const kept = channel();
  slots.put(7, kept);
  const waiting = slots.take(9);
  slots.fail(new ConnectionLostError("gone"));
  await assert.rejects(waiting, ConnectionLostError);
  assert.equal(kept.closed, true);
});
