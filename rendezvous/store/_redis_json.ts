/**
 * How a room is kept in Redis: JSON the Lua script stores and returns whole
 * (`_redis_script.ts`), and its conversion to and from the store's answers.
 */
import { fromHex, toHex as hex } from "../../base/mod.ts";
import type { RoomAnswer } from "./_room.ts";
import type { NatMapping, PeerInfo, RegisterMessage, RendezvousTransport } from "../wire/mod.ts";

/** What the script keeps of each peer, opaque to Lua. */
export interface PeerJson {
  id: string;
  obs: [string, number];
  cand: [string, number][];
  fp?: string;
  nat?: NatMapping;
  tr: RendezvousTransport;
  /** Relay only (`register`'s `relayOnly`). */
  ro?: true;
}

export interface RoomJson {
  n: number;
  s: { id: string; info: string };
  r?: { id: string; info: string };
  t?: string;
  relay?: string;
  paired?: boolean;
}

/** What the script keeps of the peer registering with `message` from `observed`. */
export function peerJson(
  id: string,
  message: RegisterMessage,
  observed: Deno.NetAddr,
  transport: RendezvousTransport,
): PeerJson {
  const info: PeerJson = {
    id,
    obs: [observed.hostname, observed.port],
    cand: message.candidates.map((c) => [c.hostname, c.port]),
    tr: transport,
  };
  if (message.fingerprint !== undefined) info.fp = hex(message.fingerprint);
  if (message.nat !== undefined) info.nat = message.nat;
  if (message.relayOnly) info.ro = true;
  return info;
}

function peerInfo(info: string): PeerInfo {
  const json = JSON.parse(info) as PeerJson;
  const peer: PeerInfo = {
    id: fromHex(json.id),
    observed: { transport: "udp", hostname: json.obs[0], port: json.obs[1] },
    candidates: (Array.isArray(json.cand) ? json.cand : []).map(([hostname, port]) => ({
      transport: "udp",
      hostname,
      port,
    })),
    transport: json.tr,
  };
  if (json.fp !== undefined) peer.fingerprint = fromHex(json.fp);
  if (json.nat !== undefined) peer.nat = json.nat;
  if (json.ro) peer.relayOnly = true;
  return peer;
}

/** The store's answer to `role` for `room`. */
export function roomAnswer(room: RoomJson, role: "send" | "receive"): RoomAnswer {
  const nameplate = String(room.n);
  const self = peerInfo(role === "send" ? room.s.info : room.r!.info);
  if (room.r === undefined || room.t === undefined) {
    return { kind: "waiting", nameplate, observed: self.observed };
  }
  const peer = peerInfo(role === "send" ? room.r.info : room.s.info);
  const answer: RoomAnswer = {
    kind: "paired",
    nameplate,
    token: fromHex(room.t),
    observed: self.observed,
    peer,
  };
  if (room.relay !== undefined) {
    const colon = room.relay.lastIndexOf(":");
    answer.relay = {
      transport: "udp",
      hostname: room.relay.slice(0, colon),
      port: Number(room.relay.slice(colon + 1)),
    };
  }
  return answer;
}
