/**
 * The server's TCP side below the protocol: accept loops, a cap on
 * connections (in total and per source, across both TCP ports), deadlines
 * that close a connection, and closing everything on shutdown.
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
}

export const DEFAULT_TCP_LIMITS: TcpLimits = {
  maxConnections: 1024,
  maxConnectionsPerSource: 80,
  idleTimeoutMs: 30_000,
  readTimeoutMs: 5_000,
};

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

export class TcpConnections {
  readonly limits: TcpLimits;
  /** Connections closed at once because a cap was reached. */
  refused = 0;
  /** Handlers that failed unexpectedly (bugs); should stay 0. */
  errors = 0;
  readonly #sourceOf: (addr: Deno.NetAddr) => string;
  readonly #perSource = new Map<string, number>();
  readonly #open = new Set<Deno.TcpConn>();
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
   * `handle` with its source key, and closed once `handle` settles.
   */
  serve(
    listener: Deno.TcpListener,
    handle: (conn: Deno.TcpConn, source: string) => Promise<void>,
  ): void {
    this.#listeners.push(listener);
    this.#track(this.#accept(listener, handle));
  }

  /** Closes the listeners and every connection, and waits for the handlers. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const listener of this.#listeners) closeQuietly(listener);
    for (const conn of this.#open) closeQuietly(conn);
    while (this.#tasks.size > 0) await Promise.all(this.#tasks);
  }

  async #accept(
    listener: Deno.TcpListener,
    handle: (conn: Deno.TcpConn, source: string) => Promise<void>,
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
      const held = this.#perSource.get(source) ?? 0;
      if (
        this.#open.size >= this.limits.maxConnections ||
        held >= this.limits.maxConnectionsPerSource
      ) {
        this.refused++;
        closeQuietly(conn);
        continue;
      }
      this.#perSource.set(source, held + 1);
      this.#open.add(conn);
      this.#track(this.#run(conn, source, handle));
    }
  }

  async #run(
    conn: Deno.TcpConn,
    source: string,
    handle: (conn: Deno.TcpConn, source: string) => Promise<void>,
  ): Promise<void> {
    try {
      await handle(conn, source);
    } catch {
      this.errors++;
    } finally {
      closeQuietly(conn);
      this.#open.delete(conn);
      const left = (this.#perSource.get(source) ?? 1) - 1;
      if (left > 0) this.#perSource.set(source, left);
      else this.#perSource.delete(source);
    }
  }

  #track(task: Promise<void>): void {
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
  }
}
