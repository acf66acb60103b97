/**
 * How the CLI's output reaches stdout and stderr: in the order it was given, and never by a call
 * that blocks the event loop. A synchronous write to a pipe its reader has not emptied (a busy
 * `--json` consumer, a pager, a terminal paused with Ctrl-S) stops the whole process, its link's
 * keep-alives included, until the peer gives the connection up as dead; an asynchronous write
 * waits off the event loop, and the transfer goes on meanwhile.
 *
 * What waits is kept in memory, in order, for every sink together (stdout and stderr lines keep
 * their order between them). Text marked `latest` (progress) replaces text marked so that is still
 * waiting as the last in line: a reader that falls behind gets the newest progress instead of a
 * backlog of stale ones, so what waits is bounded by the run's other events (the offer's listing at
 * most). A sink whose write fails (a broken pipe: its reader is gone) gets nothing more; nothing is
 * thrown at the run, which goes on without that output.
 */
import { writeAll } from "../base/mod.ts";

/** Where the text goes: `Deno.stdout`, `Deno.stderr`, or a test's recorder. */
export interface WriterSink {
  write(bytes: Uint8Array): Promise<number>;
}

interface Chunk {
  sink: WriterSink;
  bytes: Uint8Array;
  latest: boolean;
}

const encoder = new TextEncoder();

export class OrderedWriter {
  readonly #waiting: Chunk[] = [];
  readonly #gone = new Set<WriterSink>();
  /** The loop that writes the queue out, while it runs. */
  #writing: Promise<void> | undefined;

  /** Queues `text` for `sink`; `latest`: it replaces a `latest` text still waiting last in line. */
  write(sink: WriterSink, text: string, options: { latest?: boolean } = {}): void {
    if (this.#gone.has(sink)) return;
    const chunk = { sink, bytes: encoder.encode(text), latest: options.latest ?? false };
    const last = this.#waiting.at(-1);
    if (chunk.latest && last?.latest && last.sink === sink) {
      this.#waiting[this.#waiting.length - 1] = chunk;
    } else {
      this.#waiting.push(chunk);
    }
    // Started in the next microtask, so `#writing` is set before the loop's end can clear it.
    this.#writing ??= Promise.resolve().then(() => this.#writeOut());
  }

  /** Resolves once everything queued so far is written, or dropped with its gone reader. */
  async flushed(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  async #writeOut(): Promise<void> {
    try {
      for (let chunk = this.#waiting.shift(); chunk; chunk = this.#waiting.shift()) {
        if (this.#gone.has(chunk.sink)) continue;
        try {
          await writeAll(chunk.sink, chunk.bytes);
        } catch {
          // Its reader is gone (EPIPE) or it cannot take more: the run does not depend on it.
          this.#gone.add(chunk.sink);
        }
      }
    } finally {
      // Cleared in the same turn that found the queue empty: a write after it starts a new loop.
      this.#writing = undefined;
    }
  }
}
