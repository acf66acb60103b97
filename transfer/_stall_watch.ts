/**
 * The transfer's deadline per phase (PROTOCOL.md, "Deadlines"): a peer that
 * keeps the connection alive but says nothing must not hold this side
 * forever. Counts bytes moved, so it works the same on every transport.
 */
import { TimeoutError } from "../base/mod.ts";

/** Default seconds without a byte moving before the transfer fails (`--stall-timeout`). */
export const DEFAULT_STALL_TIMEOUT_S = 30;

/** The phases a side waits on its peer in, as the error names them. */
export type TransferPhase = "offer" | "decision" | "data" | "confirmation";

/** Timers the watch runs on; a test passes a fake clock. */
export interface StallClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

const REAL_CLOCK: StallClock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (id) => clearTimeout(id as number),
};

export interface StallWatchOptions {
  /** Who this side waits on: named in the error. */
  peer: "sender" | "receiver";
  /** Called once with the TimeoutError when a phase runs out. */
  onStall: (error: TimeoutError) => void;
  clock?: StallClock;
}

/**
 * Fails the phase when nothing moved for its limit. `enter` starts a phase
 * with its limit; `moved` (bytes arrived or left) restarts the clock; a phase
 * in which nothing calls `moved` has a plain deadline.
 */
export class StallWatch implements Disposable {
  readonly #options: StallWatchOptions;
  readonly #clock: StallClock;
  #phase: TransferPhase = "offer";
  #limitMs = 0;
  #last = 0;
  #timer: unknown;
  #stopped = false;

  constructor(options: StallWatchOptions) {
    this.#options = options;
    this.#clock = options.clock ?? REAL_CLOCK;
  }

  enter(phase: TransferPhase, limitMs: number): void {
    if (!(limitMs > 0)) throw new RangeError(`Invalid limit for the ${phase} phase: ${limitMs} ms`);
    if (this.#stopped) return;
    this.#phase = phase;
    this.#limitMs = limitMs;
    this.#last = this.#clock.now();
    this.#arm(limitMs);
  }

  moved(): void {
    this.#last = this.#clock.now();
  }

  /** While this side waits on itself (a person deciding, local hashing): no deadline. */
  pause(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  [Symbol.dispose](): void {
    this.stop();
  }

  /** One timer per phase, re-armed when it fires early: `moved` stays cheap on the hot path. */
  #arm(ms: number): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = this.#clock.setTimeout(() => this.#check(), ms);
  }

  #check(): void {
    this.#timer = undefined;
    if (this.#stopped) return;
    const idle = this.#clock.now() - this.#last;
    if (idle < this.#limitMs) {
      this.#arm(this.#limitMs - idle);
      return;
    }
    this.stop();
    // The limit, not the idle time measured: a timer that fired late on a busy
    // machine must not make the message name a deadline nobody set.
    this.#options.onStall(
      new TimeoutError(stallMessage(this.#phase, this.#options.peer, this.#limitMs)),
    );
  }
}

function stallMessage(phase: TransferPhase, peer: "sender" | "receiver", limitMs: number): string {
  const seconds = Math.round(limitMs / 100) / 10;
  switch (phase) {
    case "offer":
      return `The sender sent no complete offer within ${seconds} s (offer phase)`;
    case "decision":
      return peer === "receiver"
        ? `The receiver did not accept within ${seconds} s (decision phase)`
        : `The sender did not start the data within ${seconds} s (decision phase)`;
    case "data":
      return `The transfer stalled: nothing moved to or from the ${peer} for ${seconds} s (data phase)`;
    case "confirmation":
      return `The receiver did not confirm the files within ${seconds} s (confirmation phase)`;
  }
}
