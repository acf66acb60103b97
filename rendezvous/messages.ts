/** The rendezvous message types (the wire layout is in protocol.ts and PROTOCOL.md). */

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
} as const;

export type Role = "send" | "receive";

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
}
/** Client → server: a waiting sender gives up its room. Never answered. */
export interface LeaveMessage {
  type: "leave";
  clientId: Uint8Array;
  nameplate: string;
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
}
/** Server → client: both peers are here. */
export interface PairedMessage {
  type: "paired";
  clientId: Uint8Array;
  nameplate: string;
  token: Uint8Array;
  observed: Deno.NetAddr;
  peer: PeerInfo;
}
/** Server → client: the registration was refused. */
export interface ErrorMessage {
  type: "error";
  clientId: Uint8Array;
  code: number;
  nameplate?: string;
}
export type RendezvousMessage =
  | RegisterMessage
  | LeaveMessage
  | WaitingMessage
  | PairedMessage
  | ErrorMessage;
