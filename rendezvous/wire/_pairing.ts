/**
 * The pairing messages' fields (../PROTOCOL.md): `register`, a peer's request to be paired,
 * and `paired`, the server's answer with the peer's addresses: the two that carry candidates,
 * flags and NAT facts. Pure; protocol.ts frames and dispatches every message type.
 */
import { checkedAddrs } from "./_addr.ts";
import { fixed, natCode, parseNameplate, TRANSPORT_CODES, transportCode } from "./_fields.ts";
import {
  CLIENT_ID_SIZE,
  type DatagramWriter,
  type FieldReader,
  FINGERPRINT_SIZE,
  TAG,
  TOKEN_SIZE,
} from "./_wire.ts";
import type * as messages from "./messages.ts";

/** Bit 0 of the register `flags` field; other bits are reserved and ignored. */
const FLAG_POLL = 0x01;
/** Bit 1 of the register `flags` field, and bit 0 of `peerFlags` in `paired`: relay only. */
const FLAG_RELAY_ONLY = 0x02;
const PEER_FLAG_RELAY_ONLY = 0x01;
/** Bit 2 of the register `flags` field: a receiver that waits for its sender (push it `paired`). */
const FLAG_WAITS = 0x04;

export function encodeRegister(out: DatagramWriter, message: messages.RegisterMessage): void {
  if (message.role !== "send" && message.role !== "receive") {
    throw new TypeError(
      `Invalid role ${JSON.stringify(message.role)}: expected send or receive`,
    );
  }
  out.byte(TAG.role, message.role === "send" ? 1 : 2);
  out.clientId(message.clientId);
  if (message.nameplate !== undefined) {
    out.u32(TAG.nameplate, parseNameplate(message.nameplate));
  } else if (message.role === "receive") {
    throw new TypeError("A receive registration needs a nameplate");
  }
  if (message.relayOnly && message.candidates.length > 0) {
    throw new TypeError("A relay-only registration carries no candidates");
  }
  out.addrs(TAG.candidates, checkedAddrs(message.candidates));
  if (message.fingerprint !== undefined) {
    out.bytes(TAG.fingerprint, fixed(message.fingerprint, FINGERPRINT_SIZE, "fingerprint"));
  }
  const flags = (message.poll ? FLAG_POLL : 0) | (message.relayOnly ? FLAG_RELAY_ONLY : 0) |
    (message.waitsForSender && message.role === "receive" ? FLAG_WAITS : 0);
  if (flags !== 0) out.byte(TAG.flags, flags);
  if (message.nat !== undefined) out.byte(TAG.nat, natCode(message.nat));
  out.cookie(message.cookie);
  if (message.successor !== undefined) {
    out.bytes(TAG.successor, fixed(message.successor, 32, "successor"));
  }
}

export function encodePaired(out: DatagramWriter, message: messages.PairedMessage): void {
  out.clientId(message.clientId);
  out.u32(TAG.nameplate, parseNameplate(message.nameplate));
  out.bytes(TAG.token, fixed(message.token, TOKEN_SIZE, "token"));
  out.addrs(TAG.observed, [message.observed]);
  const peer = message.peer;
  out.bytes(TAG.peerId, fixed(peer.id, CLIENT_ID_SIZE, "peer id"));
  out.addrs(TAG.peerObserved, [peer.observed]);
  out.addrs(TAG.peerCandidates, checkedAddrs(peer.candidates));
  if (peer.fingerprint !== undefined) {
    out.bytes(TAG.peerFingerprint, fixed(peer.fingerprint, FINGERPRINT_SIZE, "peer fingerprint"));
  }
  if (peer.nat !== undefined) out.byte(TAG.peerNat, natCode(peer.nat));
  out.byte(TAG.peerTransport, transportCode(peer.transport));
  if (message.relay !== undefined) out.addrs(TAG.relay, [message.relay]);
  if (peer.relayOnly) out.byte(TAG.peerFlags, PEER_FLAG_RELAY_ONLY);
}

/** Without its cookie, which the caller reads after the other fields, as for every request. */
export function decodeRegister(
  fields: FieldReader,
  clientId: Uint8Array,
): messages.RegisterMessage {
  const roleByte = fields.byte("role");
  if (roleByte !== 1 && roleByte !== 2) fields.fail(`invalid role ${roleByte}`);
  const role: messages.Role = roleByte === 1 ? "send" : "receive";
  const message: messages.RegisterMessage = {
    type: "register",
    role,
    clientId,
    candidates: fields.addrs("candidates"),
  };
  const plate = fields.nameplate(role === "receive");
  if (plate !== undefined) message.nameplate = plate;
  if (fields.has("fingerprint")) message.fingerprint = fields.need("fingerprint");
  const flags = fields.has("flags") ? fields.byte("flags") : 0;
  if ((flags & FLAG_POLL) !== 0) message.poll = true;
  // Beside candidates it is ignored: the peer's `paired` has room for the flag only without them.
  if ((flags & FLAG_RELAY_ONLY) !== 0 && message.candidates.length === 0) message.relayOnly = true;
  if ((flags & FLAG_WAITS) !== 0 && role === "receive") message.waitsForSender = true;
  const mapping = fields.nat("nat");
  if (mapping !== undefined) message.nat = mapping;
  if (fields.has("successor")) message.successor = fields.need("successor");
  return message;
}

export function decodePaired(fields: FieldReader, clientId: Uint8Array): messages.PairedMessage {
  const transportByte = fields.byte("peerTransport");
  const peer: messages.PeerInfo = {
    id: fields.need("peerId"),
    observed: fields.addr("peerObserved"),
    candidates: fields.addrs("peerCandidates"),
    transport: TRANSPORT_CODES[transportByte - 1] ??
      fields.fail(`field peerTransport holds unknown transport ${transportByte}`),
  };
  if (fields.has("peerFingerprint")) peer.fingerprint = fields.need("peerFingerprint");
  const mapping = fields.nat("peerNat");
  if (mapping !== undefined) peer.nat = mapping;
  if (fields.has("peerFlags") && (fields.byte("peerFlags") & PEER_FLAG_RELAY_ONLY) !== 0) {
    peer.relayOnly = true;
  }
  const paired: messages.PairedMessage = {
    type: "paired",
    clientId,
    nameplate: fields.nameplate(true)!,
    token: fields.need("token"),
    observed: fields.addr("observed"),
    peer,
  };
  if (fields.has("relay")) paired.relay = fields.addr("relay");
  return paired;
}
