/**
 * What p2pft publishes in multicast DNS (local/PROTOCOL.md): instance names
 * derived by hashing, the records of one side's advert, and reading them back.
 * Pure: no sockets.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { fromHex, isReachableIpv6, parseIpv6, ProtocolError, toHex } from "../base/mod.ts";
import { sameName } from "./_dns_name.ts";
import { type DnsMessage, type DnsQuestion, type DnsRecord, DnsType } from "./dns.ts";
import { LOCAL_VERSION } from "./version_mod.ts";

export { LOCAL_VERSION };
/** The DNS-SD service type every p2pft sender is listed under. */
export const SERVICE_NAME = "_p2pft._udp.local";
/** Seconds a listener may cache our records; a session is shorter, and ends with a goodbye. */
export const RECORD_TTL = 120;
/** Bytes of token, ids, and certificate fingerprint. */
export const TOKEN_LENGTH = 16;
export const ID_LENGTH = 16;
export const FINGERPRINT_LENGTH = 32;
/** Most addresses one advert lists (the punch state machine probes at most 32 candidates). */
export const MAX_ADDRESSES = 8;

/** One side's advert: where it listens and the ids the punch probes carry. */
export interface Advert {
  /** Full instance name: `<label>._p2pft._udp.local`. */
  instance: string;
  /** Its SRV target, the host name its A and AAAA records belong to. */
  host: string;
  /** The UDP port it punches on (and TCP, where it also listens there). */
  port: number;
  /** Its LAN addresses: dotted IPv4, and canonical IPv6 (global or unique-local). */
  addresses: string[];
  /** The punch token both sides use (chosen by the sender). */
  token: Uint8Array;
  /** Its own punch id. */
  id: Uint8Array;
  /** Sender only: SHA-256 of its certificate (DER). */
  fingerprint?: Uint8Array;
  /** Sender only: the id of the receiver it paired with, once one claimed it. */
  peer?: Uint8Array;
  /** Listed under {@link SERVICE_NAME} with a PTR record (the sender), or not (the receiver). */
  browsable: boolean;
}

const utf8 = new TextEncoder();

function hashLabel(context: string, value: Uint8Array | string): string {
  const digest = sha256.create().update(utf8.encode(context))
    .update(typeof value === "string" ? utf8.encode(value) : value).digest();
  return toHex(digest.subarray(0, 8));
}

/** The sender's instance for `nameplate`: a hash, so the number is not shown in clear. */
export function senderInstance(nameplate: string): string {
  return `${hashLabel("p2pft local nameplate", nameplate)}.${SERVICE_NAME}`;
}

/** The receiver's instance: derived from the sender's token, so the sender knows what to watch. */
export function receiverInstance(token: Uint8Array): string {
  return `${hashLabel("p2pft local receiver", token)}.${SERVICE_NAME}`;
}

/** The host name an instance's SRV record points at. */
export function hostName(instance: string): string {
  return `p2pft-${instance.slice(0, instance.indexOf("."))}.local`;
}

/** The records of `advert`; `ttl` 0 makes them a goodbye. */
export function advertRecords(advert: Advert, ttl: number = RECORD_TTL): DnsRecord[] {
  const txt = [
    `v=${LOCAL_VERSION}`,
    `tok=${toHex(advert.token)}`,
    `id=${toHex(advert.id)}`,
    ...(advert.fingerprint ? [`fp=${toHex(advert.fingerprint)}`] : []),
    ...(advert.peer ? [`peer=${toHex(advert.peer)}`] : []),
  ];
  return [
    ...(advert.browsable
      ? [
        {
          name: SERVICE_NAME,
          ttl,
          cacheFlush: false,
          kind: "PTR",
          target: advert.instance,
        } as const,
      ]
      : []),
    {
      name: advert.instance,
      ttl,
      cacheFlush: true,
      kind: "SRV",
      priority: 0,
      weight: 0,
      port: advert.port,
      target: advert.host,
    },
    {
      name: advert.instance,
      ttl,
      cacheFlush: true,
      kind: "TXT",
      strings: txt.map((s) => utf8.encode(s)),
    },
    ...advert.addresses.map((address) => ({
      name: advert.host,
      ttl,
      cacheFlush: true,
      kind: address.includes(":") ? "AAAA" as const : "A" as const,
      address,
    })),
  ];
}

/** An mDNS response carrying `advert` (RFC 6762 §18: id 0, QR and AA set). */
export function advertResponse(advert: Advert, ttl: number = RECORD_TTL): DnsMessage {
  return {
    id: 0,
    response: true,
    authoritative: true,
    questions: [],
    answers: advertRecords(advert, ttl),
    authorities: [],
    additionals: [],
  };
}

/** The query a receiver sends for the sender of `nameplate`. */
export function senderQuery(nameplate: string, unicastResponse: boolean): DnsMessage {
  const name = senderInstance(nameplate);
  const question = (type: number): DnsQuestion => ({ name, type, class: 1, unicastResponse });
  return {
    id: 0,
    response: false,
    authoritative: false,
    questions: [question(DnsType.SRV), question(DnsType.TXT)],
    answers: [],
    authorities: [],
    additionals: [],
  };
}

/** Whether `message` is a query that `advert`'s records answer. */
export function asksFor(message: DnsMessage, advert: Advert): boolean {
  if (message.response) return false;
  return message.questions.some((q) =>
    (sameName(q.name, advert.instance) &&
      (q.type === DnsType.SRV || q.type === DnsType.TXT || q.type === DnsType.ANY)) ||
    (advert.browsable && sameName(q.name, SERVICE_NAME) &&
      (q.type === DnsType.PTR || q.type === DnsType.ANY)) ||
    (sameName(q.name, advert.host) &&
      (q.type === DnsType.A || q.type === DnsType.AAAA || q.type === DnsType.ANY))
  );
}

/**
 * The advert for `instance` in a response, if it holds that instance's TXT
 * and SRV records (goodbyes, TTL 0, are skipped). A TXT record of another
 * version or with broken values throws ProtocolError: that peer cannot pair.
 * Its addresses are the host's A records and those AAAA records a peer can
 * probe: a link-local one, say, is useless without the interface's scope.
 */
export function readAdvert(message: DnsMessage, instance: string): Advert | undefined {
  if (!message.response) return undefined;
  const records = [...message.answers, ...message.additionals].filter((r) => r.ttl > 0);
  const txt = records.find((r) => r.kind === "TXT" && sameName(r.name, instance));
  const srv = records.find((r) => r.kind === "SRV" && sameName(r.name, instance));
  if (txt?.kind !== "TXT" || srv?.kind !== "SRV") return undefined;
  const keys = readTxt(txt.strings);
  const version = keys.get("v");
  if (version !== String(LOCAL_VERSION)) {
    throw new ProtocolError(
      `The p2pft peer on the local network speaks local discovery version ${version}; this p2pft speaks ${LOCAL_VERSION}: use the same p2pft version on both machines`,
    );
  }
  const addresses = [
    ...new Set(
      records.flatMap((r) =>
        sameName(r.name, srv.target) &&
          (r.kind === "A" || (r.kind === "AAAA" && isReachableIpv6(parseIpv6(r.address)!)))
          ? [r.address]
          : []
      ),
    ),
  ].slice(0, MAX_ADDRESSES);
  if (srv.port === 0) throw new ProtocolError(`The local advert ${instance} names port 0`);
  return {
    instance,
    host: srv.target,
    port: srv.port,
    addresses,
    token: hexField(keys, "tok", TOKEN_LENGTH, instance)!,
    id: hexField(keys, "id", ID_LENGTH, instance)!,
    ...optional("fingerprint", hexField(keys, "fp", FINGERPRINT_LENGTH, instance, true)),
    ...optional("peer", hexField(keys, "peer", ID_LENGTH, instance, true)),
    browsable: records.some((r) =>
      r.kind === "PTR" && sameName(r.name, SERVICE_NAME) && sameName(r.target, instance)
    ),
  };
}

function optional<K extends string>(key: K, value: Uint8Array | undefined) {
  return value === undefined ? {} : { [key]: value } as Record<K, Uint8Array>;
}

/** `key=value` strings (RFC 6763 §6.3-6.4): keys case-insensitive, the first one counts. */
function readTxt(strings: Uint8Array[]): Map<string, string> {
  const decoder = new TextDecoder();
  const keys = new Map<string, string>();
  for (const string of strings) {
    const text = decoder.decode(string);
    const equals = text.indexOf("=");
    if (equals <= 0) continue;
    const key = text.slice(0, equals).toLowerCase();
    if (!keys.has(key)) keys.set(key, text.slice(equals + 1));
  }
  return keys;
}

function hexField(
  keys: Map<string, string>,
  key: string,
  length: number,
  instance: string,
  optional = false,
): Uint8Array | undefined {
  const value = keys.get(key);
  if (value === undefined && optional) return undefined;
  if (value === undefined || !new RegExp(`^[0-9a-f]{${2 * length}}$`).test(value)) {
    throw new ProtocolError(
      `The local advert ${instance} has ${key}=${value ?? "(missing)"}: expected ${
        2 * length
      } lowercase hex digits`,
    );
  }
  return fromHex(value);
}
