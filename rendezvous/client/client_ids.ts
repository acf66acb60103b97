/**
 * Client ids, and the successor rule of a sender that serves one code to several receivers
 * (../PROTOCOL.md, "Several receivers"): each registration commits to the SHA-256 of the client id
 * of the next one, which alone may then reopen the paired room. Pure apart from the randomness.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { CLIENT_ID_SIZE } from "../wire/mod.ts";

/** A fresh random client id. */
export function newClientId(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(CLIENT_ID_SIZE));
}

/** The `successor` a registration carries so that `next` (a client id) may reopen its room. */
function successorOf(next: Uint8Array): Uint8Array {
  return sha256(next);
}

/**
 * The client ids of one sender's registrations, one after another: `clientId` for this one,
 * `successor` to register with it, and `advance()` to move to the next.
 */
export class ClientIdChain {
  #current = newClientId();
  #next = newClientId();

  get clientId(): Uint8Array {
    return this.#current;
  }

  get successor(): Uint8Array {
    return successorOf(this.#next);
  }

  /** Moves on: the next registration uses the id the last successor committed to. */
  advance(): void {
    this.#current = this.#next;
    this.#next = newClientId();
  }
}
