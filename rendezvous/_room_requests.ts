/**
 * The server's requests that touch rooms (`register`, `leave`, `relay-hello`),
 * answered from the room store, with waiting senders' pushes (PROTOCOL.md,
 * "Push"). A store that cannot
 * answer now (Redis down) costs that one request an error 13, never the server.
 */
import { StoreUnavailableError } from "../errors.ts";
import { toHex as hex } from "../bytes.ts";
import { type Outgoing, relayHelloReplies, type RelayTable } from "./_relay_sessions.ts";
import type { RoomStore } from "./_room_store.ts";
import { answerMessage, type RoomAnswer, type RoomLimits } from "./_rooms.ts";
import { UdpSenders } from "./_udp_senders.ts";
import type { TcpClient, TcpSender } from "./_tcp_rendezvous.ts";
import {
  encodeMessage,
  ErrorCode,
  type LeaveMessage,
  type RegisterMessage,
  type RelayHelloMessage,
} from "./protocol.ts";

export class RoomRequests {
  readonly store: RoomStore;
  /** Requests answered with error 13 (store unavailable). */
  storeUnavailable = 0;
  /** `paired` messages pushed to waiting senders (UDP or TCP). */
  pushed = 0;
  /** Waiting senders on TCP, by client id (hex). */
  readonly #tcpSenders = new Map<string, TcpSender>();
  readonly #udpSenders: UdpSenders;
  readonly #sendUdp: (data: Uint8Array, to: Deno.NetAddr) => void;

  constructor(
    store: RoomStore,
    options: {
      limits: Pick<RoomLimits, "maxRooms" | "idleTimeoutMs">;
      now: () => number;
      /** Sends a push from the main UDP port. */
      sendUdp: (data: Uint8Array, to: Deno.NetAddr) => void;
    },
  ) {
    this.store = store;
    this.#udpSenders = new UdpSenders(options.limits, options.now);
    this.#sendUdp = options.sendUdp;
  }

  /**
   * The answer to one `register` from `from` (`requestBytes` long); over TCP,
   * `tcp` is its connection.
   */
  async register(
    message: RegisterMessage,
    from: Deno.NetAddr,
    source: string,
    transport: { tcp?: TcpClient; requestBytes: number },
  ): Promise<Outgoing[]> {
    const tcp = transport.tcp;
    const answer = await this.#answer(message, from, source, tcp ? "tcp" : "udp");
    if (!tcp && message.role === "send" && answer.kind === "waiting") {
      this.#udpSenders.remember({ message, from, source, requestBytes: transport.requestBytes });
    }
    if (tcp && message.role === "send" && answer.kind === "waiting") {
      this.#tcpSenders.set(hex(message.clientId), {
        client: tcp,
        message,
        source,
        nameplate: answer.nameplate,
      });
    }
    if (answer.kind === "paired" && message.role === "receive") {
      await this.#pushPaired(answer.peer.id);
    }
    return [[encodeMessage(answerMessage(message.clientId, answer)), from]];
  }

  /** A waiting sender gives up its room (best effort: `leave` is never answered). */
  async leave(message: LeaveMessage): Promise<void> {
    this.#udpSenders.forget(message.clientId);
    await this.store.leave(message.clientId, message.nameplate).catch(() => {});
  }

  /** The answer to a `relay-hello` (`relays` absent: this server does not relay). */
  async relayHello(
    relays: RelayTable | undefined,
    message: RelayHelloMessage,
    from: Deno.NetAddr,
  ): Promise<Outgoing[]> {
    const key = hex(message.token);
    try {
      const peers = relays ? await this.store.pairedPeers(key) : undefined;
      return relayHelloReplies(relays, key, peers, message, from);
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      this.storeUnavailable++;
      const code = ErrorCode.storeUnavailable;
      return [[encodeMessage({ type: "error", clientId: message.clientId, code }), from]];
    }
  }

  /** A TCP connection ended: a sender still waiting on it gives its room up, as with `leave`. */
  tcpClosed(client: TcpClient): void {
    for (const [key, waiting] of this.#tcpSenders) {
      if (waiting.client !== client) continue;
      this.#tcpSenders.delete(key);
      this.store.leave(waiting.message.clientId, waiting.nameplate).catch(() => {});
    }
  }

  /** A waiting sender's receiver just came: tell the sender now (UDP or TCP), not at its next poll. */
  async #pushPaired(senderId: Uint8Array): Promise<void> {
    const udp = this.#udpSenders.take(senderId);
    if (udp !== undefined) {
      const answer = await this.#answer(udp.message, udp.from, udp.source, "udp");
      const reply = encodeMessage(answerMessage(senderId, answer));
      // Never more bytes than the sender's own last request: a push amplifies nothing.
      if (answer.kind === "paired" && reply.length <= udp.requestBytes) {
        this.pushed++;
        this.#sendUdp(reply, udp.from);
      }
    }
    const key = hex(senderId);
    const waiting = this.#tcpSenders.get(key);
    if (waiting === undefined) return;
    this.#tcpSenders.delete(key);
    const answer = await this.#answer(
      waiting.message,
      waiting.client.remote,
      waiting.source,
      "tcp",
    );
    waiting.client.push(encodeMessage(answerMessage(senderId, answer)));
    this.pushed++;
  }

  /** The store's answer, or error 13 when the store cannot answer now (counted). */
  async #answer(
    message: RegisterMessage,
    from: Deno.NetAddr,
    source: string,
    transport: "udp" | "tcp",
  ): Promise<RoomAnswer> {
    try {
      return await this.store.register(message, from, source, transport);
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      this.storeUnavailable++;
      return { kind: "error", code: ErrorCode.storeUnavailable, nameplate: message.nameplate };
    }
  }
}
