/**
 * This side's SPAKE2 share, made as soon as a side has time for it: its three scalar
 * multiplications need only the code's words (the nameplate and the sender's certificate
 * fingerprint enter only the finish, `bindSpake`), so a side makes them while it waits for its
 * peer (the sender once the server confirmed its nameplate, a receiver once told to wait for its
 * sender), or else right after pairing, while it waits on the network. Made after pairing, on a
 * fresh process's cold code (~12-16 ms of CPU), they held up the sender's answers to the
 * receiver's probes (peer/PROTOCOL.md, "Round trips of a small transfer").
 */
import { bindSpake, shareSpake, type Spake2, type Spake2Share } from "../pake/mod.ts";

export class EarlyShare implements AsyncDisposable {
  readonly #role: "sender" | "receiver";
  readonly #code: string;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #share: Promise<Spake2Share> | undefined;

  /** Makes nothing yet: {@link soon} starts it, {@link take} needs it. */
  constructor(role: "sender" | "receiver", code: string) {
    this.#role = role;
    this.#code = code;
  }

  /** Starts making the share once what runs now is done (on a timer: a datagram read goes first). */
  soon(): void {
    if (this.#share !== undefined || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => this.#start(), 0);
  }

  /** The start bound to the pairing's nameplate and the link's channel binding; once only. */
  async take(nameplate: string, channelBinding: Uint8Array): Promise<Spake2> {
    return bindSpake(await this.#start(), { nameplate, channelBinding });
  }

  /** Stops a share not started yet; one being made is waited for (it runs on Deno's ops). */
  async [Symbol.asyncDispose](): Promise<void> {
    clearTimeout(this.#timer);
    await this.#share?.catch(() => {});
  }

  #start(): Promise<Spake2Share> {
    clearTimeout(this.#timer);
    if (this.#share === undefined) {
      this.#share = shareSpake(this.#role, this.#code);
      // A share nobody takes (the link failed first) must not fail the process; a taker sees it.
      this.#share.catch(() => {});
    }
    return this.#share;
  }
}
