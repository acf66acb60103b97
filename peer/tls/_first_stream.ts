/**
 * A LAN link whose sender picked `p2pft-tls-nodelay/0` (PROTOCOL.md, "Few connections for a
 * small transfer"): the link's first stream, the receiver's stream 1 (the PAKE's), is also the
 * transfer's control stream, so a small transfer takes two TLS connections (control, 1) instead
 * of three (control, 1, 0). The sender's first `openStream` and the receiver's first
 * `acceptStream` return that stream once this side has it; every later stream is the link's own
 * (the sender's from id 0, announced with OPEN).
 */
import type { ByteStream } from "../../transfer/mod.ts";
import type { LinkEnd, OpenStreamOptions, PeerLink } from "../link/mod.ts";

export function sharingFirstStream(link: PeerLink, role: "sender" | "receiver"): PeerLink {
  return new SharedFirstStream(link, role);
}

class SharedFirstStream implements PeerLink {
  readonly #link: PeerLink;
  readonly #role: "sender" | "receiver";
  /** The link's first stream, once this side has it. */
  #first: ByteStream | undefined;
  /** Whether the first stream of the other direction was asked for (only that one shares). */
  #asked = false;

  constructor(link: PeerLink, role: "sender" | "receiver") {
    this.#link = link;
    this.#role = role;
  }

  get transport() {
    return this.#link.transport;
  }

  get closed(): Promise<LinkEnd | undefined> {
    return this.#link.closed;
  }

  get lostReason(): string | undefined {
    return this.#link.lostReason;
  }

  async openStream(options?: OpenStreamOptions): Promise<ByteStream> {
    if (this.#role === "sender") return this.#again() ?? await this.#link.openStream(options);
    return this.#keep(await this.#link.openStream(options));
  }

  async acceptStream(): Promise<ByteStream> {
    if (this.#role === "receiver") return this.#again() ?? await this.#link.acceptStream();
    return this.#keep(await this.#link.acceptStream());
  }

  close(end: LinkEnd): Promise<void> {
    return this.#link.close(end);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#link[Symbol.asyncDispose]();
  }

  /** The link's first stream: the receiver's first opened, the sender's first accepted. */
  #keep(stream: ByteStream): ByteStream {
    if (!this.#asked) this.#first ??= stream;
    return stream;
  }

  /** The first stream of the other direction: the link's first stream, if this side has it. */
  #again(): ByteStream | undefined {
    if (this.#asked) return undefined;
    this.#asked = true;
    const first = this.#first;
    this.#first = undefined;
    return first;
  }
}
