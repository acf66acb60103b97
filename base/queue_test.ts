import assert from "node:assert/strict";
import { Queue } from "./queue.ts";

Deno.test("Queue hands items to waiters in order, drops beyond its bound, cancels a take", async () => {
  const queue = new Queue<number>(2);
  const waiting = queue.take();
  queue.push(1);
  assert.equal(await waiting, 1);
  for (const item of [2, 3, 4]) queue.push(item);
  assert.equal(await queue.take(), 2);
  assert.equal(await queue.take(), 3);
  const stop = new AbortController();
  const cancelled = queue.take(stop.signal);
  stop.abort(new Error("stopped"));
  await assert.rejects(cancelled, /stopped/);
  // The cancelled take took nothing: the next item goes to the next take.
  queue.push(5);
  assert.equal(await queue.take(), 5);
});

Deno.test("Queue after fail: what was queued first, then the first error for every take", async () => {
  const queue = new Queue<string>(Infinity);
  queue.push("kept");
  queue.fail(new Error("first"));
  queue.fail(new Error("second"));
  assert.equal(await queue.take(), "kept");
  await assert.rejects(queue.take(), /first/);
  const waiting = new Queue<string>(1);
  const pending = waiting.take();
  waiting.fail(new Error("ended"));
  await assert.rejects(pending, /ended/);
});
