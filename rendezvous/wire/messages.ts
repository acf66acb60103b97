/** The rendezvous message types (the wire layout is in protocol.ts and ../PROTOCOL.md). */

/** Why the server refused a registration (value of an `error` message). */
export const ErrorCode = {
  /** A receiver named a nameplate with no waiting sender. */
  noSender: 1,
  /** A sender asked for a nameplate another sender holds. */
  nameplateInUse: 2,
  /** The nameplate already paired a sender and a receiver. */
  roomFull: 3,
  /** The server holds its maximum number of rooms, or no nameplate is free. */
  serverFull: 4,
  /** The source address holds its maximum number of rooms. */
  tooManyRooms: 5,
  /** The client id is already registered with another role or nameplate. */
  clientConflict: 6,
  /** A poll named a room that no longer exists (it expired or was left). */
  expired: 7,
  /** `relay-hello` to a server that runs without a relay (or to a port that does not relay). */
  relayOff: 8,
  /** The relay holds its maximum number of sessions. */
  relayFull: 9,
  /** `relay-hello` with a token that names no paired room, or a client id not of that room. */
  relayUnknown: 10,
  /** The relay session of this room ended (byte limit reached, or idle too long). */
  relayEnded: 11,
  /** `tcp-relay-hello` for a room that already has its maximum of TCP relay channels. */
  relayChannels: 12,
  /** The server's shared room store (Redis) cannot answer right now: try another instance. */
  storeUnavailable: 13,
  /** The relay session of this room reached the operator's byte cap (`limit`) and ended. */
  relayCapped: 14,
} as const;

export type Role = "send" | "receive";

/**
 * How a peer reached the rendezvous server: over UDP (it can punch and run
 * QUIC) or over TCP (it cannot: it needs a TCP path, on the LAN or through the
 * TCP relay).
 */
export type RendezvousTransport = "udp" | "tcp";

/**
 * How the peer's NAT maps its UDP socket, as seen from two server ports:
 * `none` (no NAT: the server sees one of the peer's own addresses),
 * `endpoint-independent` (one public address for every destination: plain
 * punching works), `endpoint-dependent` (a new public port per destination,
 * "symmetric": punching needs luck or the relay).
 */
export type NatMapping = "endpoint-independent" | "endpoint-dependent" | "none";

/** Client → server: join or poll a room. Idempotent by `clientId`. */
export interface RegisterMessage {
  type: "register";
  role: Role;
  clientId: Uint8Array;
  /** Required for `receive`; optional for `send` (absent = allocate one). */
  nameplate?: string;
  candidates: Deno.NetAddr[];
  fingerprint?: Uint8Array;
  /** Set on polls after the room is confirmed: never create a room, answer `expired` instead. */
  poll?: boolean;
  /** Our NAT mapping, from `observe`; passed to the peer. */
  nat?: NatMapping;
  /** The server's cookie for our address (absent on first contact and over TCP). */
  cookie?: Uint8Array;
  /**
   * Sender: SHA-256 of the client id it will register with next on the same
   * nameplate. Once this room has paired, only that registration may reopen
   * the nameplate (`send --receivers N`); nobody else knows the id before it.
   */
  successor?: Uint8Array;
  /**
   * This client takes only the relay (`--relay-only`): the server tells its peer, which then
   * joins the relay at once instead of punching first. Sent with no candidates (a side that never
   * goes direct has none to offer), which keeps the peer's `paired` within `MAX_REPLY_SIZE`; a
   * server ignores it beside candidates.
   */
  relayOnly?: boolean;
  /**
   * Receiver: it keeps asking while no sender is there (`receive --timeout`), so the server may
   * hold it and push `paired` the moment its sender registers, as it does for a waiting sender.
   * Ignored on a sender's registration.
   */
  waitsForSender?: boolean;
}
/** Client → server: a waiting sender gives up its room. Never answered. */
export interface LeaveMessage {
  type: "leave";
  clientId: Uint8Array;
  nameplate: string;
  /** The server's cookie for our address (absent on first contact and over TCP). */
  cookie?: Uint8Array;
}
/** Server → client: the room exists, the peer has not come yet. */
export interface WaitingMessage {
  type: "waiting";
  clientId: Uint8Array;
  nameplate: string;
  observed: Deno.NetAddr;
}
/** What one peer learns about the other. */
export interface PeerInfo {
  id: Uint8Array;
  observed: Deno.NetAddr;
  candidates: Deno.NetAddr[];
  fingerprint?: Uint8Array;
  /** The peer's NAT mapping, when it reported one. */
  nat?: NatMapping;
  /** How the peer registered (the server knows it from the socket, the peer does not claim it). */
  transport: RendezvousTransport;
  /** The peer takes only the relay (it registered with `relayOnly` and no candidates). */
  relayOnly?: boolean;
}
/** Server → client: both peers are here. */
export interface PairedMessage {
  type: "paired";
  clientId: Uint8Array;
  nameplate: string;
  token: Uint8Array;
  observed: Deno.NetAddr;
  peer: PeerInfo;
  /**
   * The relay to use, when it is not the answering server's own: with a
   * shared room store, the instance that owns the room's relay.
   */
  relay?: Deno.NetAddr;
}
/** Server → client: the registration was refused. */
export interface ErrorMessage {
  type: "error";
  clientId: Uint8Array;
  code: number;
  nameplate?: string;
  /** With code 14: the cap that ended the relay session, in bytes. */
  limit?: number;
}
/** Client → server (any port): what source address do you see? */
export interface ObserveMessage {
  type: "observe";
  clientId: Uint8Array;
  /** The server's cookie for our address (absent on first contact and over TCP). */
  cookie?: Uint8Array;
}
/** Server → client: the answer to `observe`, from the port it was sent to. */
export interface ObservationMessage {
  type: "observation";
  clientId: Uint8Array;
  /** The request's source address as the server saw it. */
  observed: Deno.NetAddr;
  /** The server's second port, for telling NAT mappings apart. */
  altPort: number;
  /** The server's relay port; absent when the server does not relay. */
  relayPort?: number;
}
/** Peer → relay port: "I am this room's peer `clientId`; relay to me at this source address." */
export interface RelayHelloMessage {
  type: "relay-hello";
  token: Uint8Array;
  clientId: Uint8Array;
  /** The server's cookie for our address (absent on first contact and over TCP). */
  cookie?: Uint8Array;
}
/**
 * Peer → TCP relay port, the first and only frame on a new TCP connection:
 * "splice me to the other peer's connection with the same token and channel".
 */
export interface TcpRelayHelloMessage {
  type: "tcp-relay-hello";
  token: Uint8Array;
  clientId: Uint8Array;
  /** Which of the room's TCP relay connections this is (0..65535). */
  channel: number;
}
/** Relay → peer: both peers are known; datagrams (UDP) or bytes (TCP) are forwarded now. */
export interface RelayReadyMessage {
  type: "relay-ready";
  clientId: Uint8Array;
}
/** Relay → peer: the hello was recorded; the other peer has not said hello yet. */
export interface RelayWaitingMessage {
  type: "relay-waiting";
  clientId: Uint8Array;
}
/**
 * Server → client, over UDP: the answer to a request without a valid cookie
 * (first contact, an expired cookie, or a new source address). Repeat the
 * request with `cookie`; nothing else was done.
 */
export interface CookieMessage {
  type: "cookie";
  clientId: Uint8Array;
  cookie: Uint8Array;
}
export type RendezvousMessage =
  | RegisterMessage
  | LeaveMessage
  | ObserveMessage
  | RelayHelloMessage
  | TcpRelayHelloMessage
  | WaitingMessage
  | PairedMessage
  | ErrorMessage
  | ObservationMessage
  | RelayReadyMessage
  | RelayWaitingMessage
  | CookieMessage;
