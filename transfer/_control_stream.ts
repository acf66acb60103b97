/**
 * The control stream each role holds for one transfer, with what guards it:
 * the caller's signal joined with this side's own failures, the stall watch,
 * and the two ways it ends (finished, or failed with an ERROR frame).
 */
import { abortable, type ByteReader } from "../base/mod.ts";
import { ProgressCounter, type ProgressCounterOptions } from "./_progress.ts";
import { sendErrorAndClose, shouldTellPeer } from "./_control.ts";
import { DEFAULT_STALL_TIMEOUT_S, StallWatch } from "./_stall_watch.ts";
import { type DataReader, streamReader } from "./_stream_reader.ts";
import type { StreamConnection } from "./types.ts";

export interface ControlStreamOptions {
  connection: StreamConnection;
  signal?: AbortSignal;
  stallTimeoutMs?: number;
}

/** Who holds the stream: the sender opens it, the receiver accepts it. */
export type ControlRole = "sender" | "receiver";

export class ControlStream implements Disposable {
  /** The caller's signal, or this side's own failure (a stall, a broken data stream, the peer's ERROR). */
  readonly signal: AbortSignal;
  /** Milliseconds without progress before a phase fails (`stallTimeoutMs`). */
  readonly stallMs: number;
  readonly watch: StallWatch;
  readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly reader: ByteReader;
  readonly #caller: AbortSignal | undefined;
  readonly #internal: AbortController;

  private constructor(parts: {
    caller: AbortSignal | undefined;
    internal: AbortController;
    signal: AbortSignal;
    stallMs: number;
    watch: StallWatch;
    writer: WritableStreamDefaultWriter<Uint8Array>;
    reader: ByteReader;
  }) {
    this.#caller = parts.caller;
    this.#internal = parts.internal;
    this.signal = parts.signal;
    this.stallMs = parts.stallMs;
    this.watch = parts.watch;
    this.writer = parts.writer;
    this.reader = parts.reader;
  }

  /**
   * Opens (sender) or accepts (receiver) the control stream. The receiver's
   * wait for the offer is its first phase; the sender's reader follows only the
   * caller's signal, so the receiver's ERROR frame can still arrive and explain
   * a failure of this side.
   */
  static async open(role: ControlRole, options: ControlStreamOptions): Promise<ControlStream> {
    options.signal?.throwIfAborted();
    const internal = new AbortController();
    const signal = options.signal
      ? AbortSignal.any([options.signal, internal.signal])
      : internal.signal;
    const stallMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_S * 1000;
    const peer = role === "sender" ? "receiver" : "sender";
    const watch = new StallWatch({ peer, onStall: (error) => internal.abort(error) });
    try {
      if (role === "receiver") watch.enter("offer", stallMs);
      const { connection } = options;
      const stream = await abortable(
        role === "sender" ? connection.openStream() : connection.acceptStream(),
        signal,
      );
      const reader = streamReader(
        stream.readable,
        `control stream from ${peer}`,
        role === "sender" ? options.signal : signal,
      );
      const writer = stream.writable.getWriter();
      return new ControlStream({
        caller: options.signal,
        internal,
        signal,
        stallMs,
        watch,
        writer,
        reader,
      });
    } catch (error) {
      watch.stop();
      throw error;
    }
  }

  /** Fails everything waiting on `signal` with `error`. */
  abort(error: unknown): void {
    this.#internal.abort(error);
  }

  /**
   * Enters the data phase: `peerAnswer` (what the peer says next on this
   * stream) failing fails the transfer, and every byte counted restarts the
   * stall clock.
   */
  startData(
    peerAnswer: Promise<unknown>,
    counts: Omit<ProgressCounterOptions, "onMoved">,
  ): ProgressCounter {
    this.watch.enter("data", this.stallMs);
    peerAnswer.catch((error) => this.abort(error));
    return new ProgressCounter({ ...counts, onMoved: () => this.watch.moved() });
  }

  /** The transfer is complete: end our side and stop reading the peer's. */
  async finish(): Promise<void> {
    await this.writer.close().catch(() => {});
    await this.reader.cancel();
  }

  /**
   * The transfer failed with `reason`: tell the peer with an ERROR frame (only
   * an ERROR frame ends the control stream, a bare end would read as
   * "finished"; when `shouldTellPeer` says no, the session's end carries it),
   * then cancel `readers` and our reader. `tell` words the message for the peer.
   */
  async fail(
    reason: unknown,
    options: { tell?: (message: string) => string; readers?: DataReader[] } = {},
  ): Promise<void> {
    if (shouldTellPeer(reason, this.#caller)) {
      await sendErrorAndClose(this.writer, reason, options.tell);
    }
    for (const reader of options.readers ?? []) await reader.cancel(reason);
    await this.reader.cancel(reason);
  }

  [Symbol.dispose](): void {
    this.watch.stop();
  }
}
