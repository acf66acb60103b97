/** Waiting helpers shared by every layer of p2pft (like bytes.ts and errors.ts). */
import { TimeoutError } from "./errors.ts";

export interface AbortableOptions {
  /** Called on abort, before the rejection, to free what `promise` holds (close its socket). */
  onAbort?: () => void;
}

/**
 * Settles like `promise`, or rejects with `signal.reason` as soon as it aborts.
 * A rejection of `promise` after the abort is swallowed: nobody waits on it.
 */
export function abortable<T>(
  promise: Promise<T>,
  signal?: AbortSignal,
  options: AbortableOptions = {},
): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    options.onAbort?.();
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      options.onAbort?.();
      promise.catch(() => {});
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

export interface DeadlineOptions {
  timeoutMs: number;
  /** The TimeoutError's message when `timeoutMs` runs out first. */
  message: string;
  signal?: AbortSignal;
}

/**
 * A signal that aborts with `options.signal`'s reason or, after `timeoutMs`,
 * with a TimeoutError carrying `message`; dispose it to clear the timer.
 */
export function deadline(options: DeadlineOptions): { signal: AbortSignal } & Disposable {
  const { signal, timeoutMs, message } = options;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new TimeoutError(message)), timeoutMs);
  const onAbort = () => controller.abort(signal!.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    [Symbol.dispose]() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    },
  };
}

/**
 * Like {@link abortable}, with a deadline: after `timeoutMs` rejects with a
 * TimeoutError carrying `message`; an abort of `signal` rejects with its reason.
 */
export async function withDeadline<T>(promise: Promise<T>, options: DeadlineOptions): Promise<T> {
  using limit = deadline(options);
  return await abortable(promise, limit.signal);
}

/**
 * Settles like `promise`, or resolves with undefined once `timeoutMs` passed:
 * for an event from the peer that may never come (a close, a reason), where
 * running out of time is an answer rather than a failure.
 */
export async function withinDeadline<T>(
  promise: Promise<T>,
  timeoutMs: number,
): Promise<T | undefined> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    return await abortable(promise, timeout);
  } catch (error) {
    if (timeout.aborted && error === timeout.reason) return undefined;
    throw error;
  }
}

/**
 * Runs `wait` with a signal that also aborts after `ms` (never when undefined),
 * and resolves undefined when that time ran out first: for a receive that
 * must wake up to send again, where the wait itself has to stop (a pending
 * receive would take the next datagram). An abort of `signal` rejects with
 * its reason.
 */
export async function waitAtMost<T>(
  ms: number | undefined,
  wait: (signal: AbortSignal) => Promise<T>,
  signal?: AbortSignal,
): Promise<T | undefined> {
  if (ms === undefined) return await wait(signal ?? new AbortController().signal);
  const wake = new AbortController();
  const timer = setTimeout(() => wake.abort(), Math.max(0, ms));
  try {
    return await wait(signal ? AbortSignal.any([signal, wake.signal]) : wake.signal);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (wake.signal.aborted) return undefined;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** A value now, or a promise of it later (a store in memory answers now, one over the network later). */
export type Awaitable<T> = T | Promise<T>;

/**
 * Paces a loop of sync calls: `due()` says, at most every `ms`, that the loop
 * has held the event loop long enough and should now let it turn (`turn()`),
 * so that timers, keep-alives and socket writes run. A
 * loop over thousands of tiny files otherwise runs for seconds without a turn,
 * and the peer's idle timeout ends the session.
 */
export class EventLoopTurns {
  readonly #ms: number;
  #since = Date.now();

  constructor(ms = 10) {
    this.#ms = ms;
  }

  /**
   * `Date.now()`, not `performance.now()`: the latter is a call into Deno, and
   * asked once per file it was 0.5 s of 21,000 files sent and received in one
   * process. A clock set back counts as due.
   */
  due(): boolean {
    const now = Date.now();
    const since = now - this.#since;
    if (since >= 0 && since < this.#ms) return false;
    this.#since = now;
    return true;
  }

  /**
   * When due, a turn of the event loop (I/O, timers, keep-alives), then the
   * loop goes on. A loop over frames already buffered awaits only microtasks,
   * which hold the event loop as a sync loop does. `setImmediate` is the
   * cheapest turn measured here: 20–45 µs, where `setTimeout(0)` took 2.3–2.7
   * ms and an async `lstat` or `open` (a thread-pool hop) 75–530 µs under load.
   */
  async turn(): Promise<void> {
    if (this.due()) await nextTurn();
  }
}

/** One turn of the event loop, for a loop that asks `EventLoopTurns.due()` itself. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
