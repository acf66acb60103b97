/** Canonical local-discovery messages for the golden, codec and fuzz tests. */
import type { DnsMessage } from "./dns.ts";
import {
  type Advert,
  advertResponse,
  hostName,
  receiverInstance,
  senderInstance,
  senderQuery,
} from "./records.ts";

const bytes = (length: number, first: number) =>
  Uint8Array.from({ length }, (_, i) => (first + i) & 0xff);

export const SAMPLE_NAMEPLATE = "4242";
const senderName = senderInstance(SAMPLE_NAMEPLATE);

export const SAMPLE_SENDER: Advert = {
  instance: senderName,
  host: hostName(senderName),
  port: 40000,
  addresses: ["192.168.1.10", "10.0.0.7", "2001:db8::10"],
  token: bytes(16, 0x00),
  id: bytes(16, 0xf0),
  fingerprint: bytes(32, 0x20),
  browsable: true,
};

const receiverName = receiverInstance(SAMPLE_SENDER.token);

export const SAMPLE_RECEIVER: Advert = {
  instance: receiverName,
  host: hostName(receiverName),
  port: 40001,
  addresses: ["192.168.1.11", "fd12:3456:789a::11"],
  token: SAMPLE_SENDER.token,
  id: bytes(16, 0xa0),
  browsable: false,
};

/** Every message of one discovery, in order, by name. */
export const SAMPLE_MESSAGES: Record<string, DnsMessage> = {
  "announce": advertResponse(SAMPLE_SENDER),
  "query": senderQuery(SAMPLE_NAMEPLATE, false),
  "query-unicast": senderQuery(SAMPLE_NAMEPLATE, true),
  "claim": advertResponse(SAMPLE_RECEIVER),
  "ack": advertResponse({ ...SAMPLE_SENDER, peer: SAMPLE_RECEIVER.id }),
  "goodbye": advertResponse(SAMPLE_SENDER, 0),
};
