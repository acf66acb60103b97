import assert from "node:assert/strict";
import { PauseWatch } from "./_pause_watch.ts";

/**
 * A watch on a clock that reads `times` in turn (the first when it starts, one
 * more per tick): resolves with the pause it reported, or undefined once the
 * times run out.
 */
function watch(times: number[]): Promise<number | undefined> {
  const reported = Promise.withResolvers<number | undefined>();
  let read = 0;
  const pauses: PauseWatch = new PauseWatch({
    limitMs: 5_000,
    everyMs: 1,
    now: () => {
      if (read === times.length) reported.resolve(undefined);
      return times[Math.min(read++, times.length - 1)];
    },
    onPause: reported.resolve,
  });
  // The watch's timer does not keep the process alive; the test's deadline does.
  const deadline = setTimeout(() => reported.reject(new Error("the watch did not tick")), 5_000);
  return reported.promise.finally(() => {
    clearTimeout(deadline);
    pauses.stop();
  });
}

Deno.test("PauseWatch reports a gap between ticks longer than its limit, once", async () => {
  assert.equal(await watch([0, 500, 1_000, 13_000, 33_000]), 12_000);
});

Deno.test("PauseWatch stays quiet while ticks come within the limit", async () => {
  assert.equal(await watch([0, 500, 5_499, 10_499, 10_500]), undefined);
});

Deno.test("PauseWatch refuses a tick as long as its limit", () => {
  assert.throws(
    () => new PauseWatch({ limitMs: 100, everyMs: 100, onPause: () => {} }),
    RangeError,
  );
});

Deno.test("PauseWatch takes a last look when stopped: a pause just ended still counts", () => {
  const times = [0, 9_000];
  let read = 0;
  let reported: number | undefined;
  const pauses = new PauseWatch({
    limitMs: 5_000,
    everyMs: 1_000,
    now: () => times[read++],
    onPause: (gap) => reported = gap,
  });
  pauses.stop();
  pauses.stop();
  assert.equal(reported, 9_000);
  assert.equal(read, 2);
});
