/**
 * A lying rendezvous server: a UDP proxy in front of a real `serve` process.
 * Peers use it as their rendezvous server. It forwards each peer's datagrams
 * from a socket of its own (one per peer), translates those sockets' addresses
 * back to the peers' real ones in every reply (so the NAT detection still sees
 * "no rewriting"), strips the relay port (no relay fallback), and rewrites the
 * `paired` replies as the attack asks: the receiver is told the attacker is
 * the sender (its address, and optionally its certificate fingerprint), the
 * sender is told the attacker is the receiver.
 */
import { decodeMessage, encodeMessage, type RendezvousMessage } from "../../rendezvous/mod.ts";

/** What the lying server learnt from the real pairing. */
export interface Intercepted {
  nameplate: string;
  token: Uint8Array;
  sender: { id: Uint8Array; addr: Deno.NetAddr; fingerprint?: Uint8Array };
  receiver: { id: Uint8Array; addr: Deno.NetAddr };
}

export interface Lie {
  /** Announced to the receiver as the sender's address (its only candidate). */
  senderAddr: Deno.NetAddr;
  /** Announced to the receiver as the sender's fingerprint; absent: the real one is kept. */
  senderFingerprint?: Uint8Array;
  /** Announced to the sender as the receiver's address (its only candidate). */
  receiverAddr: Deno.NetAddr;
}

interface Client {
  addr: Deno.NetAddr;
  upstream: Deno.DatagramConn;
  role?: "send" | "receive";
  loop: Promise<void>;
}

const key = (addr: Deno.NetAddr) => `${addr.hostname}:${addr.port}`;

export class LyingRendezvous implements AsyncDisposable {
  readonly addr: Deno.NetAddr;
  /** Resolves when the receiver was paired (the attacker then knows the token and both ids). */
  readonly intercepted: Promise<Intercepted>;
  /** `paired` replies rewritten so far, by role. */
  readonly lies = { send: 0, receive: 0 };
  readonly #front: Deno.DatagramConn;
  readonly #server: Deno.NetAddr;
  readonly #lie: Lie;
  readonly #clients = new Map<string, Client>();
  readonly #byUpstream = new Map<string, Client>();
  readonly #loop: Promise<void>;
  #resolve!: (value: Intercepted) => void;
  #closed = false;

  constructor(server: Deno.NetAddr, lie: Lie) {
    this.#server = server;
    this.#lie = lie;
    this.#front = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    const { hostname, port } = this.#front.addr as Deno.NetAddr;
    this.addr = { transport: "udp", hostname, port };
    this.intercepted = new Promise((resolve) => this.#resolve = resolve);
    this.#loop = this.#forwardUp();
  }

  async #forwardUp(): Promise<void> {
    for (;;) {
      let data: Uint8Array, from: Deno.NetAddr;
      try {
        [data, from] = (await this.#front.receive()) as [Uint8Array, Deno.NetAddr];
      } catch {
        return; // closed
      }
      let client = this.#clients.get(key(from));
      if (!client) {
        const upstream = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
        client = { addr: from, upstream, loop: Promise.resolve() };
        client.loop = this.#forwardDown(client);
        this.#clients.set(key(from), client);
        this.#byUpstream.set(key(upstream.addr as Deno.NetAddr), client);
      }
      try {
        const message = decodeMessage(data);
        if (message.type === "register") client.role = message.role;
      } catch { /* forwarded as is */ }
      await client.upstream.send(data, this.#server).catch(() => {});
    }
  }

  async #forwardDown(client: Client): Promise<void> {
    for (;;) {
      let data: Uint8Array;
      try {
        [data] = await client.upstream.receive();
      } catch {
        return; // closed
      }
      let reply = data;
      try {
        reply = encodeMessage(this.#rewrite(decodeMessage(data), client));
      } catch { /* forwarded as is */ }
      await this.#front.send(reply, client.addr).catch(() => {});
    }
  }

  /** The peer's real address for one of our upstream sockets. */
  #real(addr: Deno.NetAddr): Deno.NetAddr {
    return this.#byUpstream.get(key(addr))?.addr ?? addr;
  }

  #rewrite(message: RendezvousMessage, client: Client): RendezvousMessage {
    switch (message.type) {
      case "observation": {
        const { relayPort: _dropped, ...rest } = message;
        return { ...rest, observed: this.#real(message.observed) };
      }
      case "waiting":
        return { ...message, observed: this.#real(message.observed) };
      case "paired": {
        const observed = this.#real(message.observed);
        const peerAddr = this.#real(message.peer.observed);
        if (client.role === "receive") {
          this.#resolve({
            nameplate: message.nameplate,
            token: message.token,
            sender: { id: message.peer.id, addr: peerAddr, fingerprint: message.peer.fingerprint },
            receiver: { id: message.clientId, addr: observed },
          });
          this.lies.receive++;
          const fingerprint = this.#lie.senderFingerprint ?? message.peer.fingerprint;
          return {
            ...message,
            observed,
            peer: {
              ...message.peer,
              observed: this.#lie.senderAddr,
              candidates: [],
              ...(fingerprint ? { fingerprint } : {}),
            },
          };
        }
        this.lies.send++;
        return {
          ...message,
          observed,
          peer: { ...message.peer, observed: this.#lie.receiverAddr, candidates: [] },
        };
      }
      default:
        return message;
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#front.close();
    for (const client of this.#clients.values()) client.upstream.close();
    await Promise.all([this.#loop, ...[...this.#clients.values()].map((client) => client.loop)]);
  }
}
