/**
 * The TLS link once its control connection is up (PROTOCOL.md):
 * stream ids, OPEN/CLOSE/PING on the control connection, and one TLS
 * connection per stream. How a stream's connection is made is injected:
 * dialled (receiver; sender through a relay) or awaited from the listener
 * (sender on the LAN).
 */
import { ByteReader, ConnectionLostError, ProtocolError, TimeoutError } from "../../base/mod.ts";
import type { ByteStream } from "../../transfer/mod.ts";
import { cutPeerMessage, type LinkEnd, type PeerLink, silentPeerMessage } from "../link/mod.ts";
import { type Channel, lost } from "./_channel.ts";
import { Liveness } from "./_liveness.ts";
import { StreamSlots } from "./_stream_slots.ts";
import {
  CONTROL_HEADER_LENGTH,
  type ControlMessage,
  decodeControl,
  decodeControlHeader,
  encodeControl,
  MAX_STREAM_ID,
} from "./_wire.ts";

/** After sending CLOSE, how long to wait for the peer to close its end. */
export const CLOSE_GRACE_MS = 2_000;
/** Streams the peer may have connected that no one accepted yet. */
export const MAX_WAITING_STREAMS = 64;
/**
 * The sender's streams a LAN receiver keeps dialled ahead: the transfer's
 * control stream and its four TCP data streams (peer/link/data_streams.ts).
 */
export const STREAMS_AHEAD = 5;

export interface TlsSessionOptions {
  role: "sender" | "receiver";
  control: Channel;
  /** Makes the connection of stream `id` from this side; absent: it arrives through `deliver`. */
  dial?: (id: number, signal: AbortSignal) => Promise<Channel>;
  /** Whether this side announces its own streams with OPEN (the peer must dial them). */
  announceOwn: boolean;
  /**
   * LAN, a sender that does not Nagle (PROTOCOL.md, "Few connections for a small transfer"):
   * its first this many streams are dialled by the receiver at once, unannounced (sender:
   * `announceOwn` from the next id on; receiver: dials them when the session starts, and the
   * rest when announced).
   */
  firstStreams?: number;
  /**
   * Relay, both sides new enough (PROTOCOL.md, "Relay"): the receiver's first stream (1, the
   * PAKE's) was made by both sides beside the control connection, unannounced: the sender takes
   * it at once, the receiver sends no OPEN for it.
   */
  pakeStreamAhead?: boolean;
  /**
   * LAN receiver: dials the peer's next streams before they are opened, keeping
   * `STREAMS_AHEAD` dialled past the last one accepted; the peer sends no OPEN.
   */
  dialAhead?: boolean;
  /** Deadline for one stream's connection to be made. */
  timeoutMs: number;
  /** Called once when the link is gone (the sender's listener closes with it). */
  onGone?: () => void;
}

type Phase = "open" | "closing" | "gone";

export class TlsSession implements PeerLink {
  readonly transport = "tcp" as const;
  readonly closed: Promise<LinkEnd | undefined>;
  #options: TlsSessionOptions;
  #phase: Phase = "open";
  #nextOwnId: number;
  #nextAcceptId: number;
  #nextAnnouncedId: number;
  /** The peer's next stream id this side dials ahead (`dialAhead`). */
  #nextAheadId: number;
  /** Streams dialled ahead whose connection is not made yet. */
  #aheadInFlight = 0;
  #slots = new StreamSlots();
  #channels = new Set<Channel>();
  #failure: Error | undefined;
  #controller = new AbortController();
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #resolveClosed!: (end: LinkEnd | undefined) => void;
  #liveness: Liveness;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set when the peer went silent or its connection was cut while the session was open. */
  #lostReason: string | undefined;

  constructor(options: TlsSessionOptions) {
    this.#options = options;
    this.#nextOwnId = options.role === "sender" ? 0 : 1;
    this.#nextAcceptId = options.role === "sender" ? 1 : 0;
    this.#nextAnnouncedId = this.#nextAcceptId + 2 * this.#peerUnannounced;
    this.#nextAheadId = this.#nextAcceptId;
    this.closed = new Promise((resolve) => this.#resolveClosed = resolve);
    this.#writer = options.control.stream.writable.getWriter();
    this.#liveness = new Liveness(() => this.#send({ type: "ping" }), () => {
      this.#lostReason = silentPeerMessage(this.#peer);
      this.#fail(new ConnectionLostError(this.#lostReason));
    });
    this.#readControl();
    if (options.role === "receiver" && options.firstStreams !== undefined) {
      for (let id = 0; id < this.#nextAnnouncedId; id += 2) this.#dialFor(id);
    }
    if (options.role === "sender" && options.pakeStreamAhead) this.#dialFor(1);
  }

  async openStream(): Promise<ByteStream> {
    this.#checkOpen();
    const id = this.#nextOwnId;
    if (id > MAX_STREAM_ID) throw new RangeError(`Stream ids exhausted at ${id}`);
    this.#nextOwnId += 2;
    this.#slots.use(id);
    if (this.#options.announceOwn && id >= this.#unannounced) {
      this.#send({ type: "open", streamId: id });
    }
    const channel = this.#options.dial ? await this.#dial(id) : await this.#slots.take(id, {
      ms: this.#options.timeoutMs,
      message: `The peer did not connect stream ${id} within ${this.#options.timeoutMs / 1000} s`,
    });
    // Dialling ahead starts once our first stream (the PAKE's) is up, not beside it (a LAN
    // receiver's first ones were made while READY was awaited: tls_link.ts, PremadeStreams).
    this.#dialAhead();
    return channel.stream;
  }

  async acceptStream(): Promise<ByteStream> {
    this.#checkOpen();
    const id = this.#nextAcceptId;
    this.#nextAcceptId += 2;
    this.#dialAhead();
    const channel = await this.#slots.take(id);
    return channel.stream;
  }

  /**
   * A connection the listener verified (right secret) for stream `id`; false
   * when the id is not one this link expects (the caller drops the connection).
   */
  deliver(id: number, channel: Channel): boolean {
    if (this.#phase !== "open" || !this.#slots.welcomes(id)) return false;
    const own = id % 2 === (this.#options.role === "sender" ? 0 : 1);
    // Own streams arrive before they are opened only when the peer dials them ahead.
    const ownLimit = this.#options.announceOwn
      ? Math.max(this.#nextOwnId, this.#unannounced)
      : this.#nextOwnId + 2 * MAX_WAITING_STREAMS;
    if (own ? id >= ownLimit : id >= this.#nextAcceptId + 2 * MAX_WAITING_STREAMS) {
      return false;
    }
    this.#channels.add(channel);
    this.#slots.put(id, channel);
    return true;
  }

  async close(end: LinkEnd): Promise<void> {
    if (this.#phase !== "open") {
      await this.closed;
      return;
    }
    this.#phase = "closing";
    this.#liveness.stopPinging();
    this.#graceTimer = setTimeout(() => this.#gone(undefined), CLOSE_GRACE_MS);
    try {
      await this.#writer.write(encodeControl({ type: "close", ...end }));
      await this.#writer.close();
    } catch {
      // The peer is already gone: nothing left to tell it.
      this.#gone(undefined);
    }
    await this.closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close({ failed: false, message: "done" });
  }

  /**
   * Own stream ids below this one the peer dials unannounced: the sender's first streams
   * (`firstStreams`), the receiver's stream 1 (`pakeStreamAhead`).
   */
  get #unannounced(): number {
    return this.#options.role === "sender"
      ? 2 * (this.#options.firstStreams ?? 0)
      : this.#options.pakeStreamAhead
      ? 2
      : 0;
  }

  /** How many of the peer's first streams this side dials (or takes) unannounced. */
  get #peerUnannounced(): number {
    return this.#options.role === "receiver"
      ? this.#options.firstStreams ?? 0
      : this.#options.pakeStreamAhead
      ? 1
      : 0;
  }

  #checkOpen(): void {
    if (this.#phase === "open") return;
    throw this.#failure ?? new ConnectionLostError("Cannot use the TLS link: it is closed");
  }

  async #dial(id: number): Promise<Channel> {
    const timer = setTimeout(
      () =>
        this.#fail(
          new TimeoutError(
            `Connecting TLS stream ${id} took over ${this.#options.timeoutMs / 1000} s`,
          ),
        ),
      this.#options.timeoutMs,
    );
    try {
      const channel = await this.#options.dial!(id, this.#controller.signal);
      if (this.#phase === "gone") {
        channel.close();
        throw this.#failure ?? new ConnectionLostError("Cannot open a stream: the TLS link closed");
      }
      this.#channels.add(channel);
      return channel;
    } catch (error) {
      const failure = this.#phase === "gone" && this.#failure ? this.#failure : error as Error;
      this.#fail(failure);
      throw failure;
    } finally {
      clearTimeout(timer);
    }
  }

  #send(message: ControlMessage): void {
    if (this.#phase !== "open") return;
    this.#writer.write(encodeControl(message)).catch((error) =>
      this.#fail(lost("write to the TLS control connection", error))
    );
  }

  get lostReason(): string | undefined {
    return this.#lostReason;
  }

  get #peer(): "sender" | "receiver" {
    return this.#options.role === "sender" ? "receiver" : "sender";
  }

  async #readControl(): Promise<void> {
    const reader = new ByteReader(this.#options.control.stream.readable, {
      what: "a TLS control frame",
      exact: true,
      failure: ConnectionLostError,
      ended: ConnectionLostError,
    });
    try {
      while (true) {
        if (await reader.atEnd()) {
          if (this.#phase === "closing") this.#gone(undefined);
          else {
            this.#lostReason = cutPeerMessage(this.#peer);
            this.#fail(
              new ConnectionLostError(
                `The peer closed the TLS control connection (${this.#lostReason})`,
              ),
            );
          }
          return;
        }
        const header = await reader.readExact(CONTROL_HEADER_LENGTH);
        const { code, length } = decodeControlHeader(header);
        const payload = length === 0 ? new Uint8Array(0) : await reader.readExact(length);
        this.#liveness.heard();
        const message = decodeControl(code, payload);
        if (message.type === "close") {
          this.#gone(
            this.#phase === "open"
              ? { failed: message.failed, message: message.message }
              : undefined,
          );
          return;
        }
        if (message.type === "open") this.#onOpen(message.streamId);
        else if (message.type === "ready") {
          throw new ProtocolError("Unexpected READY on an established TLS link");
        }
      }
    } catch (error) {
      // A reset or a TLS stream ended without close_notify, while we still held the session open.
      if (this.#phase === "open" && !(error instanceof ProtocolError)) {
        this.#lostReason = cutPeerMessage(this.#peer);
      }
      this.#fail(
        error instanceof ProtocolError || error instanceof ConnectionLostError
          ? error
          : lost("read the TLS control connection", error),
      );
    } finally {
      reader.abandon();
    }
  }

  #onOpen(id: number): void {
    const expected = this.#options.dial !== undefined && !this.#options.dialAhead;
    if (!expected || id !== this.#nextAnnouncedId) {
      throw new ProtocolError(
        `Unexpected TLS OPEN for stream ${id}: expected ${
          expected ? `stream ${this.#nextAnnouncedId}` : "no OPEN on a LAN link"
        }`,
      );
    }
    if (id >= this.#nextAcceptId + 2 * MAX_WAITING_STREAMS) {
      throw new ProtocolError(
        `TLS OPEN for stream ${id}: more than ${MAX_WAITING_STREAMS} waiting`,
      );
    }
    this.#nextAnnouncedId += 2;
    this.#dialFor(id);
  }

  /** Dials the peer's stream `id` (announced, or one of its `firstStreams`) and delivers it. */
  #dialFor(id: number): void {
    this.#dial(id).then((channel) => {
      this.#channels.delete(channel);
      if (!this.deliver(id, channel)) channel.close();
    }, () => {});
  }

  /**
   * Keeps the peer's next `STREAMS_AHEAD` streams past the last one asked for
   * dialled (from the first `openStream` or `acceptStream` on), at most
   * `STREAMS_AHEAD` at a time (the sender's listener runs 16 handshakes at
   * once, and this side's own streams need some of them).
   */
  #dialAhead(): void {
    if (!this.#options.dialAhead) return;
    while (
      this.#phase === "open" && this.#aheadInFlight < STREAMS_AHEAD &&
      this.#nextAheadId < this.#nextAcceptId + 2 * STREAMS_AHEAD
    ) {
      const id = this.#nextAheadId;
      this.#nextAheadId += 2;
      this.#aheadInFlight++;
      const signal = AbortSignal.any([
        this.#controller.signal,
        AbortSignal.timeout(this.#options.timeoutMs),
      ]);
      // A stream dialled ahead that did not connect is missing, not fatal: the
      // peer may be closing the link, whose end the control connection reports;
      // an opener that needs the stream runs into its own deadline.
      this.#options.dial!(id, signal).then((channel) => {
        if (!this.deliver(id, channel)) channel.close();
      }, () => {}).finally(() => {
        this.#aheadInFlight--;
        this.#dialAhead();
      });
    }
  }

  #fail(error: Error): void {
    if (this.#phase === "gone") return;
    this.#failure = error;
    this.#gone(undefined);
  }

  /** Ends the link: every connection closed, every wait rejected, `closed` settled. */
  #gone(end: LinkEnd | undefined): void {
    if (this.#phase === "gone") return;
    this.#phase = "gone";
    this.#failure ??= new ConnectionLostError(
      end
        ? `The peer closed the TLS link${end.failed ? `: ${end.message}` : ""}`
        : "The TLS link is closed",
    );
    this.#liveness.stop();
    clearTimeout(this.#graceTimer);
    this.#controller.abort(this.#failure);
    this.#options.control.close();
    for (const channel of this.#channels) channel.close();
    this.#slots.fail(this.#failure);
    this.#options.onGone?.();
    this.#resolveClosed(end);
  }
}
