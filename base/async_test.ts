import * as assert from "node:assert/strict";
import { abortable, deadline, waitAtMost, withDeadline } from "./async.ts";
import { TimeoutError } from "./errors.ts";

Deno.test("abortable settles like the promise when the signal stays quiet", async () => {
  assert.equal(await abortable(Promise.resolve(7), new AbortController().signal), 7);
  await assert.rejects(abortable(Promise.reject(new RangeError("x")), undefined), RangeError);
});

Deno.test("abortable rejects with the signal's reason on abort, even if already aborted", async () => {
  const controller = new AbortController();
  const pending = abortable(new Promise<never>(() => {}), controller.signal);
  controller.abort(new Error("stop"));
  await assert.rejects(pending, /stop/);
  await assert.rejects(abortable(Promise.reject(new Error("late")), controller.signal), /stop/);
});

Deno.test("withDeadline rejects with a TimeoutError carrying the message", async () => {
  const { promise, resolve } = Promise.withResolvers<void>();
  await assert.rejects(
    withDeadline(promise, { timeoutMs: 10, message: "no answer in 0.01 s" }),
    (error) => error instanceof TimeoutError && error.message === "no answer in 0.01 s",
  );
  resolve();
});

Deno.test("withDeadline rejects with the caller's reason when the caller aborts", async () => {
  const controller = new AbortController();
  const pending = withDeadline(new Promise<never>(() => {}), {
    timeoutMs: 60_000,
    message: "unused",
    signal: controller.signal,
  });
  controller.abort(new Error("cancelled"));
  await assert.rejects(
    pending,
    (error) => !(error instanceof TimeoutError) && /cancelled/.test(`${error}`),
  );
});

Deno.test("abortable frees what the promise holds on abort, even if already aborted", async () => {
  const controller = new AbortController();
  let freed = 0;
  const pending = abortable(new Promise<never>(() => {}), controller.signal, {
    onAbort: () => freed++,
  });
  controller.abort(new Error("stop"));
  await assert.rejects(pending, /stop/);
  await assert.rejects(
    abortable(new Promise<never>(() => {}), controller.signal, { onAbort: () => freed++ }),
    /stop/,
  );
  assert.equal(freed, 2);
});

Deno.test("deadline aborts with a TimeoutError, or with the caller's reason first", async () => {
  {
    using limit = deadline({ timeoutMs: 10, message: "too slow" });
    await new Promise((resolve) => limit.signal.addEventListener("abort", resolve));
    assert.ok(limit.signal.reason instanceof TimeoutError);
    assert.equal(limit.signal.reason.message, "too slow");
  }
  const controller = new AbortController();
  using limit = deadline({ signal: controller.signal, timeoutMs: 60_000, message: "unused" });
  controller.abort(new Error("cancelled"));
  assert.match(`${limit.signal.reason}`, /cancelled/);
});

/** A wait that ends only when its signal aborts (as a socket receive does). */
function endsOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
}

Deno.test("waitAtMost stops the wait and resolves undefined once its time ran out", async () => {
  let stopped: AbortSignal | undefined;
  const result = await waitAtMost(5, (signal) => {
    stopped = signal;
    return endsOnAbort(signal);
  });
  assert.equal(result, undefined);
  assert.equal(stopped?.aborted, true);
  assert.equal(await waitAtMost(1_000, () => Promise.resolve(3)), 3);
});

Deno.test("waitAtMost rejects with the signal's reason on abort", async () => {
  const controller = new AbortController();
  const waiting = waitAtMost(60_000, endsOnAbort, controller.signal);
  controller.abort(new RangeError("stop"));
  await assert.rejects(waiting, RangeError);
});
