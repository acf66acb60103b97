/**
 * The server's TCP side below the protocol: accept loops, a cap on
 * connections (in total and per source, across both TCP ports), deadlines
 * that close a connection, and closing everything on shutdown.
 *
 * Admission (rendezvous/PROTOCOL.md, "TCP admission"): a connection is
 * *unproven* until its handler says it carried something the protocol acts
 * on (a request, or a relay hello for a live pairing), and an unproven one
 * is closed `firstFrameTimeoutMs` after it was accepted. A full server makes
 * room rather than refuse: a new connection evicts the oldest unproven one
 * (of its own source when that source is at its cap), else, when every one
 * is proven, the oldest of the source holding the most, if that source holds
 * more than the newcomer's. Idle connections from any number of addresses
 * thus only ever push each other out, never a client that spoke.
 */

export interface TcpLimits {
  /** Most TCP connections open at once, rendezvous and relay together. */
  maxConnections: number;
  /** Most TCP connections one source (see `sourceKey`) may hold open at once. */
  maxConnectionsPerSource: number;
  /** A rendezvous connection that completes no frame for this long is closed. */
  idleTimeoutMs: number;
  /** A frame (or a relay hello) must arrive whole within this long once started. */
  readTimeoutMs: number;
  /** A connection not proven this long after it was accepted is closed. */
  firstFrameTimeoutMs: number;
}

export const DEFAULT_TCP_LIMITS: TcpLimits = {
  maxConnections: 1024,
  maxConnectionsPerSource: 80,
  idleTimeoutMs: 30_000,
  readTimeoutMs: 5_000,
  firstFrameTimeoutMs: 3_000,
};

/** What the server knows of one open connection. */
interface Held {
  readonly source: string;
  /** Closes the connection if it is not proven in time; cleared once it is. */
  readonly deadline: Deadline;
}

/** Closes `conn` when a timer runs out; one timer at a time, re-armed as the protocol moves on. */
export class Deadline implements Disposable {
  readonly #conn: Deno.TcpConn;
  #timer?: ReturnType<typeof setTimeout>;
  /** Whether the deadline closed the connection. */
  expired = false;

  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  arm(ms: number): void {
    this.clear();
    this.#timer = setTimeout(() => {
      this.expired = true;
      closeQuietly(this.#conn);
    }, ms);
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  [Symbol.dispose](): void {
    this.clear();
  }
}

export function closeQuietly(conn: { close(): void }): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}

/** Says that a connection carried something the protocol acts on (idempotent). */
export type Prove = () => void;

export class TcpConnections {
  readonly limits: TcpLimits;
  /** Connections closed at once because a cap was reached and nothing could be evicted. */
  refused = 0;
  /** Connections closed to make room for a new one. */
  evicted = 0;
  /** Handlers that failed unexpectedly (bugs); should stay 0. */
  errors = 0;
  readonly #sourceOf: (addr: Deno.NetAddr) => string;
  readonly #perSource = new Map<string, number>();
  /** Every open connection, oldest first. */
  readonly #open = new Map<Deno.TcpConn, Held>();
  /** The unproven ones, oldest first: the first to go when the server is full. */
  readonly #unproven = new Set<Deno.TcpConn>();
  readonly #listeners: Deno.TcpListener[] = [];
  readonly #tasks = new Set<Promise<void>>();
  #closed = false;

  constructor(limits: Partial<TcpLimits>, sourceOf: (addr: Deno.NetAddr) => string) {
    this.limits = { ...DEFAULT_TCP_LIMITS };
    for (const name of Object.keys(DEFAULT_TCP_LIMITS) as (keyof TcpLimits)[]) {
      const value = limits[name];
      if (value === undefined) continue;
      if (!Number.isFinite(value) || value <= 0) {
        throw new RangeError(`Invalid ${name} ${value}: expected a positive number`);
      }
      this.limits[name] = value;
    }
    this.#sourceOf = sourceOf;
  }

  /** Open TCP connections now. */
  get size(): number {
    return this.#open.size;
  }

  /**
   * Accepts on `listener` until closed; each admitted connection is handed to
   * `handle` with `prove`, to call once the connection carried something the
   * protocol acts on, and closed once `handle` settles.
   */
  serve(
    listener: Deno.TcpListener,
    handle: (conn: Deno.TcpConn, prove: Prove) => Promise<void>,
  ): void {
    this.#listeners.push(listener);
    this.#track(this.#accept(listener, handle));
  }

  /** Closes the listeners and every connection, and waits for the handlers. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const listener of this.#listeners) closeQuietly(listener);
    for (const conn of this.#open.keys()) closeQuietly(conn);
    while (this.#tasks.size > 0) await Promise.all(this.#tasks);
  }

  async #accept(
    listener: Deno.TcpListener,
    handle: (conn: Deno.TcpConn, prove: Prove) => Promise<void>,
  ): Promise<void> {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (this.#closed || error instanceof Deno.errors.BadResource) return;
        continue; // a failed handshake or a full file table: keep serving
      }
      if (this.#closed) {
        closeQuietly(conn);
        return;
      }
      const source = this.#sourceOf(conn.remoteAddr);
      if (!this.#makeRoom(source)) {
        this.refused++;
        closeQuietly(conn);
        continue;
      }
      const deadline = new Deadline(conn);
      deadline.arm(this.limits.firstFrameTimeoutMs);
      this.#perSource.set(source, (this.#perSource.get(source) ?? 0) + 1);
      this.#open.set(conn, { source, deadline });
      this.#unproven.add(conn);
      const prove = () => {
        if (this.#unproven.delete(conn)) deadline.clear();
      };
      this.#track(this.#run(conn, prove, handle));
    }
  }

  /** Whether a connection from `source` may be added, evicting one if that makes room. */
  #makeRoom(source: string): boolean {
    const held = this.#perSource.get(source) ?? 0;
    if (held >= this.limits.maxConnectionsPerSource) {
      return this.#evict(this.#oldest(this.#unproven.keys(), source));
    }
    if (this.#open.size < this.limits.maxConnections) return true;
    return this.#evict(
      this.#oldest(this.#unproven.keys()) ??
        this.#oldest(this.#open.keys(), this.#largestSource(held + 1)),
    );
  }

  /** The first of `conns` (oldest first) from `source` (any source when undefined). */
  #oldest(conns: Iterable<Deno.TcpConn>, source?: string): Deno.TcpConn | undefined {
    for (const conn of conns) {
      if (source === undefined || this.#open.get(conn)?.source === source) return conn;
    }
    return undefined;
  }

  /** The source holding the most connections, if it holds more than `than`. */
  #largestSource(than: number): string | undefined {
    let largest: string | undefined;
    let most = than;
    for (const [source, count] of this.#perSource) {
      if (count > most) [largest, most] = [source, count];
    }
    return largest;
  }

  #evict(conn: Deno.TcpConn | undefined): boolean {
    if (conn === undefined) return false;
    this.evicted++;
    closeQuietly(conn);
    this.#forget(conn);
    return true;
  }

  async #run(
    conn: Deno.TcpConn,
    prove: Prove,
    handle: (conn: Deno.TcpConn, prove: Prove) => Promise<void>,
  ): Promise<void> {
    try {
      await handle(conn, prove);
    } catch {
      this.errors++;
    } finally {
      closeQuietly(conn);
      this.#forget(conn);
    }
  }

  /** Drops `conn` from the counts (once: eviction forgets it before its handler ends). */
  #forget(conn: Deno.TcpConn): void {
    const held = this.#open.get(conn);
    if (held === undefined) return;
    held.deadline.clear();
    this.#open.delete(conn);
    this.#unproven.delete(conn);
    const left = (this.#perSource.get(held.source) ?? 1) - 1;
    if (left > 0) this.#perSource.set(held.source, left);
    else this.#perSource.delete(held.source);
  }

  #track(task: Promise<void>): void {
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
  }
}
