/**
 * Lanes (peer/PROTOCOL.md, "Lanes"): QUIC connections to the peer besides the
 * first one, on the same endpoints, so over the same punched port pair, that
 * carry data streams. Each has its own congestion controller, initial window
 * and 10 MB send window (transfer/PROTOCOL.md, "How many streams and lanes").
 *
 * The receiver (QUIC client) dials them as soon as the first connection is up,
 * so their handshakes overlap the PAKE, and once the PAKE is done writes on
 * each a lane hello whose proof comes from the PAKE's session key; the sender
 * admits a lane only from the peer's address and with that proof, and opens
 * data streams only on lanes it admitted.
 */
import { ByteReader, equalBytes, sameAddr, withDeadline } from "../../base/mod.ts";
import { decodeLaneHello, encodeLaneHello, LANE_HELLO_BYTES } from "./_lane_hello.ts";

/** Connections per link at most, the first one included. */
export const MAX_LANES = 8;
/**
 * How long an accepted lane has to present its hello: the receiver writes it
 * once its PAKE is done, which has 10 s from the first connection on.
 */
const LANE_HELLO_DEADLINE_MS = 15_000;
/** CONNECTION_CLOSE code for a connection that is not a lane of this session. */
const CLOSE_REFUSED = 2;

/** Lanes on either side: the connections besides the first, and their end. */
export interface Lanes {
  /** Lanes that may carry data streams now. */
  readonly ready: readonly Deno.QuicConn[];
  /** `take` is called with each lane (those already there at once) whose incoming streams the link reads. */
  onLane(take: (conn: Deno.QuicConn) => void): void;
  /** Lets lanes join: `proof` is `laneProof` of the PAKE's session key. */
  admit(proof: Uint8Array): void;
  /** Closes every lane and stops taking new ones. */
  close(): void;
  /** Settles once nothing is pending any more (after the endpoint closed). */
  readonly settled: Promise<void>;
}

/** Base: the lanes that joined, and who wants to hear of them. */
abstract class LaneSet implements Lanes {
  protected readonly joined: Deno.QuicConn[] = [];
  protected readonly proof = Promise.withResolvers<Uint8Array>();
  protected closed = false;
  #take: ((conn: Deno.QuicConn) => void) | undefined;
  abstract readonly settled: Promise<void>;

  constructor() {
    this.proof.promise.catch(() => {});
  }

  get ready(): readonly Deno.QuicConn[] {
    return this.joined;
  }

  onLane(take: (conn: Deno.QuicConn) => void): void {
    this.#take = take;
    for (const conn of this.joined) take(conn);
  }

  admit(proof: Uint8Array): void {
    this.proof.resolve(proof);
  }

  close(): void {
    this.closed = true;
    this.proof.reject(new Error("the link closed"));
    for (const conn of this.joined) closeQuietly(conn, 0, "done");
  }

  protected join(conn: Deno.QuicConn): void {
    this.joined.push(conn);
    this.#take?.(conn);
  }
}

/**
 * Sender side: accepts further connections on the first one's listener, from
 * the peer's address only, and admits those that present the proof.
 */
export class SenderLanes extends LaneSet {
  readonly #listener: Deno.QuicListener;
  readonly #expected: Deno.NetAddr;
  readonly #checking = new Set<Promise<void>>();
  readonly settled: Promise<void>;

  constructor(listener: Deno.QuicListener, expected: Deno.NetAddr) {
    super();
    this.#listener = listener;
    this.#expected = expected;
    this.settled = this.#accept();
  }

  override close(): void {
    super.close();
    this.#listener.stop();
  }

  async #accept(): Promise<void> {
    // Twice as many tries as lanes at most: a peer whose hellos keep failing gets no more.
    for (let tries = 0; tries < 2 * (MAX_LANES - 1); tries++) {
      let incoming: Deno.QuicIncoming;
      try {
        incoming = await this.#listener.incoming();
      } catch {
        break; // the endpoint closed with the link
      }
      // Handshakes run side by side (`accept()` on the listener would take them one at a
      // time, a round trip each); the address is checked on the connection, since reading
      // it on the incoming consumes the incoming in Deno 2.9.6.
      const checking = this.#admit(incoming.accept<false>()).catch(() => {});
      this.#checking.add(checking);
      checking.then(() => this.#checking.delete(checking));
    }
    this.#listener.stop();
    await Promise.all(this.#checking);
  }

  /** Joins the connection as a lane if it comes from the peer and proves it, else closes it. */
  async #admit(accepting: Promise<Deno.QuicConn>): Promise<void> {
    let conn: Deno.QuicConn;
    try {
      conn = await accepting;
    } catch {
      return; // the handshake failed
    }
    const ok = !this.closed && this.joined.length < MAX_LANES - 1 &&
      sameAddr(conn.remoteAddr, this.#expected) && await this.#check(conn);
    if (ok && !this.closed) return this.join(conn);
    closeQuietly(conn, CLOSE_REFUSED, "not a lane of this session");
  }

  /** Whether the connection's first stream carries a lane hello with this session's proof. */
  async #check(conn: Deno.QuicConn): Promise<boolean> {
    const streams = conn.incomingBidirectionalStreams.getReader();
    let hello: ByteReader | undefined;
    try {
      const bytes = await withDeadline(
        (async () => {
          const { value: stream, done } = await streams.read();
          if (done) return undefined;
          stream.writable.close().catch(() => {});
          hello = new ByteReader(stream.readable, { what: "lane hello", exact: true });
          return await hello.readExact(LANE_HELLO_BYTES);
        })(),
        { timeoutMs: LANE_HELLO_DEADLINE_MS, message: "No lane hello in time" },
      );
      if (!bytes) return false;
      const { proof } = decodeLaneHello(bytes);
      return equalBytes(proof, await this.proof.promise);
    } catch {
      return false; // junk, too late, or the link closed: the lane is refused
    } finally {
      await hello?.cancel();
      streams.releaseLock();
    }
  }
}

/**
 * Receiver side: dials `count` lanes at once and writes each its hello once
 * the PAKE is done.
 */
export class ReceiverLanes extends LaneSet {
  readonly settled: Promise<void>;

  constructor(count: number, dial: () => Promise<Deno.QuicConn>) {
    super();
    const dials = Array.from({ length: count }, (_, index) => this.#open(index + 1, dial));
    this.settled = Promise.all(dials).then(() => {});
  }

  async #open(index: number, dial: () => Promise<Deno.QuicConn>): Promise<void> {
    let conn: Deno.QuicConn;
    try {
      conn = await dial();
    } catch {
      return; // a lane that cannot be set up is one lane fewer, nothing more
    }
    if (this.closed) return closeQuietly(conn, 0, "done");
    // Its incoming streams are read from now on: the sender opens some once it checked the hello.
    this.join(conn);
    try {
      const proof = await this.proof.promise;
      const stream = await conn.createBidirectionalStream();
      stream.readable.cancel().catch(() => {});
      const writer = stream.writable.getWriter();
      await writer.write(encodeLaneHello({ index, proof }));
      await writer.close();
    } catch {
      // The lane or the link closed; the sender never sends on a lane it did not admit.
    }
  }
}

/** Closes `conn`; one the peer or an idle timeout already closed is left as it is. */
function closeQuietly(conn: Deno.QuicConn, closeCode: number, reason: string): void {
  try {
    conn.close({ closeCode, reason });
  } catch {
    // already closed
  }
}
