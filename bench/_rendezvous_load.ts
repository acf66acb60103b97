/**
 * The load-generating client of `bench/rendezvous.ts`: sockets on many
 * loopback source addresses (127.77.0.0/16, one socket each, so the
 * per-source rate limit never binds) that speak the rendezvous protocol (UDP)
 * and pair simulated senders and receivers.
 *
 * One pairing = sender `register` (-> waiting), receiver `register` (-> paired),
 * sender poll (-> paired): three requests, each retransmitted after 1 s
 * unanswered. A real sender polls every 300 ms; here it polls at once, so this
 * measures the server, not the poll interval.
 */
import type * as Rendezvous from "../rendezvous/mod.ts";
import type { RendezvousMessage } from "../rendezvous/mod.ts";
import { toHex } from "../base/mod.ts";

const RETRANSMIT_MS = 1000;
const MAX_TRIES = 5;

/** The codec of the server under test: this checkout's, or another checkout's (`loadCodec`). */
export interface Codec {
  decodeMessage: typeof Rendezvous.decodeMessage;
  encodeMessage: typeof Rendezvous.encodeMessage;
  MAX_REPLY_SIZE: number;
  COOKIE_PERIOD_MS: number;
}

/**
 * The codec of this checkout, or of the rendezvous `mod.ts` at `serverModule`:
 * against another checkout's server, the load speaks its protocol version too.
 */
export async function loadCodec(serverModule?: string): Promise<Codec> {
  const loaded = await import(
    serverModule ? `file://${serverModule}` : "../rendezvous/mod.ts"
  ) as typeof Rendezvous;
  return {
    decodeMessage: loaded.decodeMessage,
    encodeMessage: loaded.encodeMessage,
    MAX_REPLY_SIZE: loaded.MAX_REPLY_SIZE,
    // Older checkouts do not export it; theirs was the same.
    COOKIE_PERIOD_MS: loaded.COOKIE_PERIOD_MS ?? 30_000,
  };
}

/** Sockets on distinct loopback addresses; replies are routed by client id. */
export class Sources implements AsyncDisposable {
  readonly sockets: Deno.DatagramConn[] = [];
  readonly codec: Codec;
  readonly #waiting = new Map<string, (message: RendezvousMessage) => void>();
  readonly #loops: Promise<void>[] = [];
  /** The cookie each socket last got (they are minted per source address). */
  readonly #cookies: (Uint8Array | undefined)[] = [];
  retransmits = 0;
  cookieAnswers = 0;

  constructor(count: number, codec: Codec) {
    this.codec = codec;
    for (let i = 0; i < count; i++) {
      const hostname = `127.77.${Math.floor(i / 250)}.${(i % 250) + 1}`;
      const conn = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
      this.sockets.push(conn);
      this.#loops.push(this.#read(conn));
    }
  }

  async #read(conn: Deno.DatagramConn): Promise<void> {
    try {
      for (;;) {
        const [data] = await conn.receive();
        let message;
        try {
          message = this.codec.decodeMessage(data);
        } catch {
          continue;
        }
        const key = toHex(message.clientId);
        const resolve = this.#waiting.get(key);
        if (resolve) {
          this.#waiting.delete(key);
          resolve(message);
        }
      }
    } catch {
      // closed
    }
  }

  /**
   * Sends `encode(cookie)` from socket `index` to `to` until a reply for
   * `clientId` comes; a `cookie` answer is kept for that socket and the
   * request resent with it at once, as the real client does. A reply of type
   * `stale` is a late duplicate of an earlier exchange (the answer to a
   * retransmission) and is skipped.
   */
  async request(
    index: number,
    encode: (cookie: Uint8Array | undefined) => Uint8Array,
    clientId: Uint8Array,
    to: Deno.NetAddr,
    stale?: RendezvousMessage["type"],
  ): Promise<RendezvousMessage> {
    const key = toHex(clientId);
    for (let tries = 0; tries < MAX_TRIES;) {
      const reply = new Promise<RendezvousMessage | undefined>((resolve) => {
        const timer = setTimeout(() => {
          this.#waiting.delete(key);
          resolve(undefined);
        }, RETRANSMIT_MS);
        const take = (message: RendezvousMessage) => {
          if (message.type === stale) return this.#waiting.set(key, take);
          clearTimeout(timer);
          resolve(message);
        };
        this.#waiting.set(key, take);
      });
      await this.sockets[index].send(encode(this.#cookies[index]), to);
      const message = await reply;
      if (message?.type === "cookie") {
        this.cookieAnswers++;
        this.#cookies[index] = message.cookie;
        continue;
      }
      if (message) return message;
      tries++;
      this.retransmits++;
    }
    throw new Error(`no answer from ${to.hostname}:${to.port} after ${MAX_TRIES} tries`);
  }

  /**
   * Gets every socket its cookie from `to` (one `observe` each, `concurrency`
   * at a time), so runs measure requests only.
   */
  async prove(to: Deno.NetAddr, concurrency: number): Promise<void> {
    const { encodeMessage, MAX_REPLY_SIZE } = this.codec;
    const observe = (id: Uint8Array) => (cookie: Uint8Array | undefined) =>
      encodeMessage({ type: "observe", clientId: id, cookie }, { padTo: MAX_REPLY_SIZE });
    let next = 0;
    const worker = async () => {
      while (next < this.sockets.length) {
        const id = clientId();
        await this.request(next++, observe(id), id, to);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const conn of this.sockets) conn.close();
    await Promise.all(this.#loops);
  }
}

let nextId = 0;
/** A fresh client id (its first 4 bytes a counter: never two alike). */
export function clientId(): Uint8Array {
  const id = crypto.getRandomValues(new Uint8Array(16));
  new DataView(id.buffer).setUint32(0, nextId++);
  return id;
}

/** One `register`, padded as the real client pads it, encoded with the cookie at hand. */
export function registerRequest(
  codec: Codec,
  request: { role: "send" | "receive"; clientId: Uint8Array; nameplate?: string; poll?: boolean },
): (cookie: Uint8Array | undefined) => Uint8Array {
  const { role, clientId, nameplate, poll = false } = request;
  return (cookie) =>
    codec.encodeMessage(
      { type: "register", role, clientId, nameplate, candidates: [], poll, cookie },
      { padTo: codec.MAX_REPLY_SIZE },
    );
}

/** Where pairing `n` sends; `echo`: against the echo baseline, replies unchecked. */
export interface Pairing {
  n: number;
  senderAt: Deno.NetAddr;
  receiverAt: Deno.NetAddr;
  echo: boolean;
}

/**
 * One pairing; returns its time-to-paired in ms, from the sender's first
 * request to its `paired`. With `echo`: the same three requests against the
 * echo baseline, unchecked: what the socket loop alone costs per pairing
 * (three datagrams in and, with the push's stand-in, four out, as the server).
 */
export async function pairOnce(sources: Sources, pairing: Pairing): Promise<number> {
  const { n, senderAt, receiverAt, echo } = pairing;
  const codec = sources.codec;
  const count = sources.sockets.length;
  // The source sockets of pairing `n`'s sender and receiver.
  const [s, r] = [(2 * n) % count, (2 * n + 1) % count];
  const started = performance.now();
  const senderId = clientId();
  const receiverId = clientId();
  const expect = (reply: RendezvousMessage, type: string, who: string) => {
    if (!echo && reply.type !== type) {
      throw new Error(`${who} got ${reply.type} ${JSON.stringify(reply)}`);
    }
  };
  const send = (clientId: Uint8Array, nameplate?: string, poll?: boolean) =>
    registerRequest(codec, { role: "send", clientId, nameplate, poll });
  const waiting = await sources.request(s, send(senderId), senderId, senderAt);
  expect(waiting, "waiting", "sender");
  const nameplate = waiting.type === "waiting" && !echo ? waiting.nameplate : "1";
  const forReceiver = await sources.request(
    r,
    registerRequest(codec, { role: "receive", clientId: receiverId, nameplate }),
    receiverId,
    receiverAt,
  );
  expect(forReceiver, "paired", "receiver");
  const forSender = await sources.request(
    s,
    send(senderId, nameplate, true),
    senderId,
    senderAt,
    "waiting",
  );
  expect(forSender, "paired", "sender poll");
  return performance.now() - started;
}
