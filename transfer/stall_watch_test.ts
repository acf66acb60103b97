import assert from "node:assert/strict";
import { TimeoutError } from "../base/mod.ts";
import { type StallClock, StallWatch } from "./_stall_watch.ts";

/** A clock that moves only when the test says so. */
class FakeClock implements StallClock {
  time = 0;
  #timers = new Map<number, { at: number; callback: () => void }>();
  #next = 1;

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): number {
    const id = this.#next++;
    this.#timers.set(id, { at: this.time + ms, callback });
    return id;
  }

  clearTimeout(id: unknown): void {
    this.#timers.delete(id as number);
  }

  get pending(): number {
    return this.#timers.size;
  }

  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.#timers].filter(([, timer]) => timer.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.time = due[1].at;
      due[1].callback();
    }
    this.time = end;
  }
}

function watch(peer: "sender" | "receiver" = "sender") {
  const clock = new FakeClock();
  const stalls: TimeoutError[] = [];
  const stall = new StallWatch({ peer, clock, onStall: (error) => stalls.push(error) });
  return { clock, stalls, stall };
}

Deno.test("StallWatch fails the data phase only after nothing moved for the whole limit", () => {
  const { clock, stalls, stall } = watch();
  stall.enter("data", 30_000);
  for (let step = 0; step < 10; step++) {
    clock.advance(20_000);
    stall.moved();
  }
  assert.equal(stalls.length, 0);
  clock.advance(29_999);
  assert.equal(stalls.length, 0);
  clock.advance(1);
  assert.equal(stalls.length, 1);
  assert.ok(stalls[0] instanceof TimeoutError);
  assert.equal(
    stalls[0].message,
    "The transfer stalled: nothing moved to or from the sender for 30 s (data phase)",
  );
  assert.equal(clock.pending, 0);
});

Deno.test("StallWatch gives a phase without progress a plain deadline, named in the error", () => {
  const { clock, stalls, stall } = watch("receiver");
  stall.enter("decision", 600_000);
  clock.advance(600_000);
  assert.equal(stalls.length, 1);
  assert.equal(stalls[0].message, "The receiver did not accept within 600 s (decision phase)");
});

Deno.test("StallWatch entering a phase restarts the clock with that phase's limit", () => {
  const { clock, stalls, stall } = watch();
  stall.enter("offer", 30_000);
  clock.advance(25_000);
  stall.enter("decision", 40_000);
  clock.advance(39_000);
  assert.equal(stalls.length, 0);
  clock.advance(1_000);
  assert.equal(stalls[0].message, "The sender did not start the data within 40 s (decision phase)");
});

Deno.test("StallWatch paused or stopped never fires", () => {
  const { clock, stalls, stall } = watch();
  stall.enter("offer", 1_000);
  stall.pause();
  clock.advance(10_000);
  stall.enter("data", 1_000);
  stall.stop();
  clock.advance(10_000);
  stall.enter("confirmation", 1_000);
  clock.advance(10_000);
  assert.equal(stalls.length, 0);
  assert.equal(clock.pending, 0);
});

Deno.test("StallWatch refuses a limit that is not positive", () => {
  const { stall } = watch();
  assert.throws(() => stall.enter("data", 0), RangeError);
  assert.throws(() => stall.enter("data", NaN), RangeError);
});
