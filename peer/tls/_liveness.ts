/**
 * A TLS link's liveness, as QUIC's (../link/link.ts): a PING every keep-alive,
 * and silence for the idle timeout loses the peer.
 */
import { LINK_IDLE_TIMEOUT_MS, LINK_KEEP_ALIVE_MS } from "../link/mod.ts";

/** A timer this late says the process did not run: reads that arrived meanwhile are not seen yet. */
const STOOD_STILL_MS = 250;

export class Liveness {
  #onSilent: () => void;
  #pingTimer: ReturnType<typeof setInterval>;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  /** `ping` sends a keep-alive; `onSilent` runs once the peer was silent too long. */
  constructor(ping: () => void, onSilent: () => void) {
    this.#onSilent = onSilent;
    this.#pingTimer = setInterval(ping, LINK_KEEP_ALIVE_MS);
    this.heard();
  }

  /** The peer was heard: its silence counts from now. */
  heard(): void {
    this.#arm(false);
  }

  /** No more keep-alives (the link is closing). */
  stopPinging(): void {
    clearInterval(this.#pingTimer);
  }

  /** Neither keep-alives nor the idle timeout any more (the link is gone). */
  stop(): void {
    clearInterval(this.#pingTimer);
    clearTimeout(this.#idleTimer);
  }

  /**
   * Silence for `ms` loses the peer. A timer that runs late means this process
   * stood still (a long synchronous job, a starved host): what the peer sent
   * meanwhile waits unread behind the timer, so the peer gets one more
   * keep-alive's time to be heard before its silence counts.
   */
  #arm(recheck: boolean): void {
    clearTimeout(this.#idleTimer);
    const ms = recheck ? LINK_KEEP_ALIVE_MS : LINK_IDLE_TIMEOUT_MS;
    const due = performance.now() + ms;
    this.#idleTimer = setTimeout(() => {
      if (!recheck && performance.now() - due > STOOD_STILL_MS) this.#arm(true);
      else this.#onSilent();
    }, ms);
  }
}
