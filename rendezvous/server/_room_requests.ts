/**
 * The server's requests that touch rooms (`register`, `leave`, `relay-hello`),
 * answered from the room store, with the pushes to whichever peer waits
 * (../PROTOCOL.md, "Push"). A store that cannot answer now (Redis down) costs
 * that one request an error 13, never the server.
 */
import { type Awaitable, StoreUnavailableError, toHex as hex } from "../../base/mod.ts";
import { type Outgoing, relayHelloReplies, type RelayTable } from "../relay/mod.ts";
import type { RoomAnswer, RoomLimits, RoomStore } from "../store/mod.ts";
import { answerMessage } from "./_room_answer.ts";
import { UdpSenders } from "./_udp_senders.ts";
import { WaitingReceivers } from "./_waiting_receivers.ts";
import type { TcpClient, TcpSender } from "./_tcp_rendezvous.ts";
import {
  encodeMessage,
  ErrorCode,
  type LeaveMessage,
  type PeerInfo,
  type RegisterMessage,
  type RelayHelloMessage,
  type RendezvousTransport,
} from "../wire/mod.ts";

export class RoomRequests {
  readonly store: RoomStore;
  /** Requests answered with error 13 (store unavailable). */
  storeUnavailable = 0;
  /** `paired` messages pushed to waiting senders and receivers (UDP or TCP). */
  pushed = 0;
  /** Waiting senders on TCP, by client id (hex). */
  readonly #tcpSenders = new Map<string, TcpSender>();
  readonly #udpSenders: UdpSenders;
  readonly #receivers: WaitingReceivers;
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
    this.#receivers = new WaitingReceivers(options.limits, options.now);
    this.#sendUdp = options.sendUdp;
  }

  /**
   * The answer to one `register` from `from` (`requestBytes` long); over TCP,
   * `tcp` is its connection.
   */
  register(
    message: RegisterMessage,
    from: Deno.NetAddr,
    source: string,
    transport: { tcp?: TcpClient; requestBytes: number },
  ): Awaitable<Outgoing[]> {
    const answer = this.#answer(message, from, source, transport.tcp ? "tcp" : "udp");
    if (answer instanceof Promise) {
      return answer.then((answer) => this.#registered(message, from, source, answer, transport));
    }
    return this.#registered(message, from, source, answer, transport);
  }

  /** The replies to `message` now that the store answered it; remembers or pushes the waiting. */
  #registered(
    message: RegisterMessage,
    from: Deno.NetAddr,
    source: string,
    answer: RoomAnswer,
    transport: { tcp?: TcpClient; requestBytes: number },
  ): Outgoing[] {
    const tcp = transport.tcp;
    if (!tcp && message.role === "send" && answer.kind === "waiting") {
      this.#udpSenders.remember(hex(message.clientId), from, transport.requestBytes);
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
      this.#pushPaired(senderView(answer, message, from, tcp ? "tcp" : "udp"));
    }
    if (message.role === "receive" && message.waitsForSender && senderToCome(answer)) {
      const { requestBytes } = transport;
      this.#receivers.remember(
        tcp
          ? { message, from, source, requestBytes, tcp }
          : { message, from, source, requestBytes },
      );
    }
    // After the sender is remembered above: pairing its waiting receiver pushes it `paired`.
    if (message.role === "send" && answer.kind === "waiting") this.#pairWaiting(answer.nameplate);
    return [[encodeMessage(answerMessage(message.clientId, answer)), from]];
  }

  /**
   * A sender's room waits on `nameplate`: a receiver waiting there is
   * registered on its behalf, with its own last request, and pushed the
   * answer if that paired it (which pushes the sender its `paired` too).
   */
  #pairWaiting(nameplate: string): void {
    const receiver = this.#receivers.take(nameplate);
    if (receiver === undefined) return;
    const { message, from, source, tcp, requestBytes } = receiver;
    const push = (answer: RoomAnswer) => {
      // Not paired (a race with another receiver): it is not remembered again until it asks.
      if (answer.kind !== "paired") return;
      const transport = tcp ? { tcp, requestBytes } : { requestBytes };
      const [[reply]] = this.#registered(message, from, source, answer, transport);
      this.pushed++;
      // Never more bytes than the receiver's own last request: a push amplifies nothing.
      if (tcp) tcp.push(reply);
      else if (reply.length <= requestBytes) this.#sendUdp(reply, from);
    };
    const answer = this.#answer(message, from, source, tcp ? "tcp" : "udp");
    // Best effort: a push lost to the store costs the receiver only its next ask.
    if (answer instanceof Promise) answer.then(push).catch(() => {});
    else push(answer);
  }

  /** A waiting peer gives up (best effort: `leave` is never answered). */
  async leave(message: LeaveMessage): Promise<void> {
    this.#udpSenders.forget(hex(message.clientId));
    this.#receivers.forget(message.nameplate, message.clientId);
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
    this.#receivers.closed(client);
    for (const [key, waiting] of this.#tcpSenders) {
      if (waiting.client !== client) continue;
      this.#tcpSenders.delete(key);
      this.store.leave(waiting.message.clientId, waiting.nameplate).catch(() => {});
    }
  }

  /**
   * A waiting sender's receiver just came: tell the sender now (UDP or TCP),
   * not at its next poll. `answer` is the sender's view of the room the
   * receiver's registration just paired (what registering again would answer).
   */
  #pushPaired(answer: PairedAnswer): void {
    const senderId = answer.clientId;
    const key = hex(senderId);
    const udp = this.#udpSenders.take(key);
    if (udp !== undefined) {
      const reply = encodeMessage(answerMessage(senderId, answer));
      // Never more bytes than the sender's own last request: a push amplifies nothing.
      if (reply.length <= udp.requestBytes) {
        this.pushed++;
        this.#sendUdp(reply, udp.from);
      }
    }
    const waiting = this.#tcpSenders.get(key);
    if (waiting === undefined) return;
    this.#tcpSenders.delete(key);
    waiting.client.push(encodeMessage(answerMessage(senderId, answer)));
    this.pushed++;
  }

  /** The store's answer, or error 13 when the store cannot answer now (counted). */
  #answer(
    message: RegisterMessage,
    from: Deno.NetAddr,
    source: string,
    transport: "udp" | "tcp",
  ): Awaitable<RoomAnswer> {
    try {
      const answer = this.store.register(message, from, source, transport);
      if (!(answer instanceof Promise)) return answer;
      return answer.catch((error) => this.#unavailable(error, message));
    } catch (error) {
      return this.#unavailable(error, message);
    }
  }

  #unavailable(error: unknown, message: RegisterMessage): RoomAnswer {
    if (!(error instanceof StoreUnavailableError)) throw error;
    this.storeUnavailable++;
    return { kind: "error", code: ErrorCode.storeUnavailable, nameplate: message.nameplate };
  }
}

/** No sender on the nameplate yet, or one busy with another receiver: one to wait for. */
function senderToCome(answer: RoomAnswer): boolean {
  return answer.kind === "error" &&
    (answer.code === ErrorCode.noSender || answer.code === ErrorCode.roomFull);
}

type PairedAnswer = Extract<RoomAnswer, { kind: "paired" }> & { clientId: Uint8Array };

/**
 * The sender's side of the room that `receiver` (registered from `observed`
 * over `transport`) just paired, from the receiver's `answer`: the same
 * room, seen from the other end.
 */
function senderView(
  answer: Extract<RoomAnswer, { kind: "paired" }>,
  receiver: RegisterMessage,
  observed: Deno.NetAddr,
  transport: RendezvousTransport,
): PairedAnswer {
  const peer: PeerInfo = {
    id: receiver.clientId,
    observed,
    candidates: receiver.candidates,
    transport,
  };
  if (receiver.fingerprint !== undefined) peer.fingerprint = receiver.fingerprint;
  if (receiver.nat !== undefined) peer.nat = receiver.nat;
  if (receiver.relayOnly) peer.relayOnly = true;
  const view: PairedAnswer = {
    kind: "paired",
    clientId: answer.peer.id,
    nameplate: answer.nameplate,
    token: answer.token,
    observed: answer.peer.observed,
    peer,
  };
  if (answer.relay !== undefined) view.relay = answer.relay;
  return view;
}
