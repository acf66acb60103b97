/**
 * This side's SPAKE2 share, computed as soon as pairing told us everything it depends on (the
 * nameplate, the words and the sender's certificate fingerprint, which the sender announced), on
 * a timer, so that it runs while this side waits on the network (the sender for the receiver's
 * probes and TLS connections, the receiver for probe answers) instead of after the link is up.
 */
import { equalBytes } from "../base/mod.ts";
import { type Spake2, startSpake } from "../pake/mod.ts";

export interface EarlyShareOptions {
  role: "sender" | "receiver";
  code: string;
  nameplate: string;
  /** The fingerprint the link is expected to carry (a different one gets a fresh start). */
  channelBinding: Uint8Array;
}

export class EarlyShare implements Disposable {
  readonly #options: EarlyShareOptions;
  readonly #timer: ReturnType<typeof setTimeout>;
  #spake: Promise<Spake2> | undefined;

  constructor(options: EarlyShareOptions) {
    this.#options = options;
    this.#timer = setTimeout(() => this.#start(), 0);
  }

  /** The start for a link bound to `channelBinding`; undefined if it is not the one expected. */
  take(channelBinding: Uint8Array): Promise<Spake2> | undefined {
    clearTimeout(this.#timer);
    if (!equalBytes(channelBinding, this.#options.channelBinding)) return undefined;
    return this.#start();
  }

  [Symbol.dispose](): void {
    clearTimeout(this.#timer);
  }

  #start(): Promise<Spake2> {
    if (this.#spake === undefined) {
      this.#spake = startSpake(this.#options);
      // A start nobody takes (the link failed first) must not fail the process; a taker sees it.
      this.#spake.catch(() => {});
    }
    return this.#spake;
  }
}
