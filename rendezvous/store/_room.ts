/**
 * One room of the rendezvous table and its two peers: the records the table
 * holds (kept small: ~100,000 waiting rooms at once) and the answer each peer
 * gets from them.
 */
import { createHash } from "node:crypto";
import { toHex as hex } from "../../base/mod.ts";
import {
  type NatMapping,
  type PeerInfo,
  type RegisterMessage,
  type RendezvousTransport,
  shortFromHex,
} from "../wire/mod.ts";

/** The server's answer to one registration (the server adds the client id). */
export type RoomAnswer =
  | { kind: "waiting"; nameplate: string; observed: Deno.NetAddr }
  | {
    kind: "paired";
    nameplate: string;
    token: Uint8Array;
    observed: Deno.NetAddr;
    peer: PeerInfo;
    /** The relay both peers use, when the room's owner is another instance's (shared store). */
    relay?: Deno.NetAddr;
  }
  | {
    kind: "error";
    code: number;
    nameplate?: string;
    /** On error 5: the cap of rooms both peers left that the source reached (absent: open rooms). */
    limit?: number;
  };

/**
 * One peer of a room, as small as it can be: ~100,000 waiting rooms are held
 * at once (docs/SCALING.md), so the client id is kept as its hex key only.
 */
export interface PeerRecord {
  /** The client id in hex. */
  key: string;
  observed: Deno.NetAddr;
  candidates: Deno.NetAddr[];
  fingerprint?: Uint8Array;
  /** Hex SHA-256 of the client id allowed to reopen the nameplate once paired. */
  successor?: string;
  nat?: NatMapping;
  transport: RendezvousTransport;
  /** It takes only the relay (`register`'s `relayOnly`): its peer is told. */
  relayOnly?: true;
  lastSeen: number;
}

export interface Room {
  nameplate: number;
  source: string;
  createdAt: number;
  sender: PeerRecord;
  receiver?: PeerRecord;
  /** The token in hex (the key of `#byToken`), once paired. */
  tokenKey?: string;
  pairedAt?: number;
  /** Paired peers that left (1: sender, 2: receiver); at 3 the nameplate is released. */
  left?: number;
  /** Whether the nameplate was released: the room lives on in `#byToken` only. */
  released?: boolean;
  /** When the room table's sweep looks at the room next (negative: held, or freed). */
  due: number;
}

/**
 * `Room.due` of a room a relay session holds past its linger, and of a freed
 * room: no deadline entry matches them (small integers, as every due time, so
 * the field stays unboxed in every room).
 */
export const HELD = -1;
export const FREED = -2;

/** The earliest time `room` can expire under `limits` (a poll can only put it off). */
export function dueOf(
  room: Room,
  limits: { pairedLingerMs: number; idleTimeoutMs: number; maxWaitMs: number },
): number {
  if (room.pairedAt !== undefined) return room.pairedAt + limits.pairedLingerMs;
  return Math.min(room.sender.lastSeen + limits.idleTimeoutMs, room.createdAt + limits.maxWaitMs);
}

/** Whether `message` is the next registration of the sender of `room`, which has paired. */
export function reopens(room: Room, message: RegisterMessage): boolean {
  return room.receiver !== undefined && room.sender.successor !== undefined &&
    createHash("sha256").update(message.clientId).digest("hex") === room.sender.successor;
}

/** One shared empty list for the many peers that announce no candidates (answers only read it). */
const NO_CANDIDATES: Deno.NetAddr[] = [];

/** A peer as the table keeps it, from its registration. */
export function peerRecord(
  message: RegisterMessage,
  key: string,
  observed: Deno.NetAddr,
  transport: RendezvousTransport,
  now: number,
): PeerRecord {
  const record: PeerRecord = {
    key,
    observed,
    candidates: message.candidates.length === 0 ? NO_CANDIDATES : message.candidates,
    transport,
    lastSeen: now,
  };
  if (message.fingerprint !== undefined) record.fingerprint = message.fingerprint;
  if (message.successor !== undefined) record.successor = hex(message.successor);
  if (message.nat !== undefined) record.nat = message.nat;
  if (message.relayOnly) record.relayOnly = true;
  return record;
}

/**
 * What `role`'s peer of `room` is told: waiting, or paired with the other's
 * details. Made afresh for each request, not kept on the room: an answer
 * that dies young costs the collector next to nothing, one kept for every
 * paired room (tried: two per room) cost more CPU per pairing than making it.
 */
export function answer(room: Room, role: "send" | "receive"): RoomAnswer {
  const nameplate = String(room.nameplate);
  const self = role === "send" ? room.sender : room.receiver!;
  if (room.receiver === undefined || room.tokenKey === undefined) {
    return { kind: "waiting", nameplate, observed: self.observed };
  }
  const other = role === "send" ? room.receiver : room.sender;
  return {
    kind: "paired",
    nameplate,
    // Views of a shared slab, not buffers of their own: an answer is encoded and dropped.
    token: shortFromHex(room.tokenKey),
    observed: self.observed,
    peer: peerInfo(other, shortFromHex(other.key)),
  };
}

/** What a peer is told of `other` (whose client id is `id`). */
function peerInfo(other: PeerRecord, id: Uint8Array): PeerInfo {
  const peer: PeerInfo = {
    id,
    observed: other.observed,
    candidates: other.candidates,
    transport: other.transport,
  };
  if (other.fingerprint !== undefined) peer.fingerprint = other.fingerprint;
  if (other.nat !== undefined) peer.nat = other.nat;
  if (other.relayOnly) peer.relayOnly = true;
  return peer;
}
