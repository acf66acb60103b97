/**
 * DNS messages as multicast DNS uses them (RFC 1035 §4, RFC 6762 §18):
 * encode without compression, decode with it, limits checked before
 * anything is allocated. Pure: no sockets.
 */
import { concatBytes, formatIpv6, parseIpv6, ProtocolError } from "../base/mod.ts";
import { decodeName, encodeName } from "./_dns_name.ts";

/** Largest mDNS message a peer may send or we accept (RFC 6762 §17). */
export const MAX_MESSAGE_SIZE = 9000;

/** Record and question type codes used by p2pft. */
export const DnsType = { A: 1, PTR: 12, TXT: 16, AAAA: 28, SRV: 33, ANY: 255 } as const;
/** The Internet class; the only one mDNS uses. */
export const CLASS_IN = 1;

/** Top bit of a question's class: "QU", the asker prefers a unicast answer (RFC 6762 §5.4). */
const UNICAST_RESPONSE_BIT = 0x8000;
/** Top bit of a record's class: "cache flush", this record set is unique (RFC 6762 §10.2). */
const CACHE_FLUSH_BIT = 0x8000;
const HEADER_SIZE = 12;
const MIN_QUESTION_SIZE = 5;
const MIN_RECORD_SIZE = 11;

export interface DnsQuestion {
  name: string;
  type: number;
  /** The class without the QU bit; CLASS_IN in mDNS. */
  class: number;
  unicastResponse: boolean;
}

/** What a record says, by its type. Types p2pft does not read keep their raw data. */
export type DnsRecordData =
  | { kind: "A"; address: string }
  | { kind: "AAAA"; address: string }
  | { kind: "PTR"; target: string }
  | { kind: "SRV"; priority: number; weight: number; port: number; target: string }
  /** Each character-string of the record, raw (DNS-SD puts `key=value` in them). */
  | { kind: "TXT"; strings: Uint8Array[] }
  | { kind: "other"; type: number; class: number; data: Uint8Array };

/** A resource record; the known kinds are of class IN. */
export type DnsRecord = DnsRecordData & {
  name: string;
  /** Seconds; 0 is a goodbye (RFC 6762 §10.1). */
  ttl: number;
  cacheFlush: boolean;
};

export interface DnsMessage {
  id: number;
  /** QR bit: a response rather than a query. */
  response: boolean;
  /** AA bit: mDNS responses set it (RFC 6762 §18.4). */
  authoritative: boolean;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

const KIND_TYPES = { A: 1, AAAA: 28, PTR: 12, SRV: 33, TXT: 16 } as const;

/** Wire bytes of `message`. Throws RangeError when a field is out of range or it exceeds the limit. */
export function encodeDnsMessage(message: DnsMessage): Uint8Array {
  const parts: Uint8Array[] = [];
  const header = new DataView(new ArrayBuffer(HEADER_SIZE));
  header.setUint16(0, uint(message.id, 0xffff, "id"));
  header.setUint16(2, (message.response ? 0x8000 : 0) | (message.authoritative ? 0x0400 : 0));
  const sections = [message.answers, message.authorities, message.additionals];
  header.setUint16(4, uint(message.questions.length, 0xffff, "question count"));
  sections.forEach((records, index) => {
    header.setUint16(6 + 2 * index, uint(records.length, 0xffff, "record count"));
  });
  parts.push(new Uint8Array(header.buffer));
  for (const question of message.questions) {
    const fixed = new DataView(new ArrayBuffer(4));
    fixed.setUint16(0, uint(question.type, 0xffff, "question type"));
    const qclass = uint(question.class, 0x7fff, "question class");
    fixed.setUint16(2, qclass | (question.unicastResponse ? UNICAST_RESPONSE_BIT : 0));
    parts.push(encodeName(question.name), new Uint8Array(fixed.buffer));
  }
  for (const records of sections) {
    for (const record of records) parts.push(...encodeRecord(record));
  }
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  if (length > MAX_MESSAGE_SIZE) {
    throw new RangeError(
      `Cannot encode DNS message: ${length} bytes exceed the limit of ${MAX_MESSAGE_SIZE}`,
    );
  }
  return concatBytes(parts);
}

function encodeRecord(record: DnsRecord): Uint8Array[] {
  const data = encodeRecordData(record);
  if (data.length > 0xffff) {
    throw new RangeError(`Cannot encode DNS record ${record.name}: ${data.length} bytes of data`);
  }
  const type = record.kind === "other"
    ? uint(record.type, 0xffff, "record type")
    : KIND_TYPES[record.kind];
  const rclass = record.kind === "other" ? uint(record.class, 0x7fff, "record class") : CLASS_IN;
  const fixed = new DataView(new ArrayBuffer(10));
  fixed.setUint16(0, type);
  fixed.setUint16(2, rclass | (record.cacheFlush ? CACHE_FLUSH_BIT : 0));
  fixed.setUint32(4, uint(record.ttl, 0xffffffff, "ttl"));
  fixed.setUint16(8, data.length);
  return [encodeName(record.name), new Uint8Array(fixed.buffer), data];
}

function encodeRecordData(record: DnsRecordData): Uint8Array {
  switch (record.kind) {
    case "A":
      return encodeIpv4(record.address);
    case "AAAA":
      return encodeIpv6(record.address);
    case "PTR":
      return encodeName(record.target);
    case "SRV": {
      const target = encodeName(record.target);
      const out = new Uint8Array(6 + target.length);
      const view = new DataView(out.buffer);
      view.setUint16(0, uint(record.priority, 0xffff, "SRV priority"));
      view.setUint16(2, uint(record.weight, 0xffff, "SRV weight"));
      view.setUint16(4, uint(record.port, 0xffff, "SRV port"));
      out.set(target, 6);
      return out;
    }
    case "TXT": {
      // RFC 6763 §6.1: a TXT record always holds at least one string, maybe empty.
      const strings = record.strings.length === 0 ? [new Uint8Array(0)] : record.strings;
      const out = new Uint8Array(strings.reduce((sum, s) => sum + 1 + s.length, 0));
      let offset = 0;
      for (const string of strings) {
        if (string.length > 255) {
          throw new RangeError(`Cannot encode TXT string of ${string.length} bytes: at most 255`);
        }
        out[offset] = string.length;
        out.set(string, offset + 1);
        offset += 1 + string.length;
      }
      return out;
    }
    case "other":
      return record.data;
  }
}

function uint(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`Cannot encode DNS ${what} ${value}: expected an integer 0 to ${max}`);
  }
  return value;
}

function encodeIpv4(address: string): Uint8Array {
  const octets = address.split(".");
  if (octets.length !== 4 || octets.some((octet) => !/^(0|[1-9][0-9]{0,2})$/.test(octet))) {
    throw new RangeError(`Cannot encode A record: ${JSON.stringify(address)} is not IPv4`);
  }
  return Uint8Array.from(octets, (octet) => uint(Number(octet), 255, "IPv4 octet"));
}

function encodeIpv6(address: string): Uint8Array {
  const bytes = parseIpv6(address);
  if (!bytes) {
    throw new RangeError(`Cannot encode AAAA record: ${JSON.stringify(address)} is not IPv6`);
  }
  return bytes;
}

/** The message in `bytes`. Throws ProtocolError on anything malformed or over a limit. */
export function decodeDnsMessage(bytes: Uint8Array): DnsMessage {
  if (bytes.length > MAX_MESSAGE_SIZE) {
    throw new ProtocolError(
      `Cannot decode DNS message: length ${bytes.length} exceeds the limit of ${MAX_MESSAGE_SIZE} bytes`,
    );
  }
  if (bytes.length < HEADER_SIZE) {
    throw new ProtocolError(`Cannot decode DNS message: ${bytes.length} bytes, header needs 12`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flags = view.getUint16(2);
  // RFC 6762 §18.3, §18.11: a message with another opcode or an error code is not ours to read.
  if ((flags & 0x780f) !== 0) {
    throw new ProtocolError(
      `Cannot decode DNS message: opcode ${(flags >> 11) & 0xf} and response code ${
        flags & 0xf
      } must both be 0 in multicast DNS`,
    );
  }
  const counts = [4, 6, 8, 10].map((at) => view.getUint16(at));
  const [questionCount, ...recordCounts] = counts;
  const room = bytes.length - HEADER_SIZE;
  const least = questionCount * MIN_QUESTION_SIZE +
    recordCounts.reduce((sum, count) => sum + count * MIN_RECORD_SIZE, 0);
  if (least > room) {
    throw new ProtocolError(
      `Cannot decode DNS message: its counts (${
        counts.join(", ")
      }) need at least ${least} bytes, ${room} follow the header`,
    );
  }
  let offset = HEADER_SIZE;
  const questions: DnsQuestion[] = [];
  for (let i = 0; i < questionCount; i++) {
    const { name, end } = decodeName(bytes, offset);
    need(bytes, end, 4, "question");
    const qclass = view.getUint16(end + 2);
    questions.push({
      name,
      type: view.getUint16(end),
      class: qclass & 0x7fff,
      unicastResponse: (qclass & UNICAST_RESPONSE_BIT) !== 0,
    });
    offset = end + 4;
  }
  const sections: DnsRecord[][] = [];
  for (const count of recordCounts) {
    const records: DnsRecord[] = [];
    for (let i = 0; i < count; i++) {
      const { record, end } = decodeRecord(bytes, view, offset);
      records.push(record);
      offset = end;
    }
    sections.push(records);
  }
  if (offset !== bytes.length) {
    throw new ProtocolError(
      `Cannot decode DNS message: ${bytes.length - offset} bytes follow the last record`,
    );
  }
  return {
    id: view.getUint16(0),
    response: (flags & 0x8000) !== 0,
    authoritative: (flags & 0x0400) !== 0,
    questions,
    answers: sections[0],
    authorities: sections[1],
    additionals: sections[2],
  };
}

function need(bytes: Uint8Array, offset: number, length: number, what: string): void {
  if (offset + length > bytes.length) {
    throw new ProtocolError(
      `Cannot decode DNS ${what} at byte ${offset}: needs ${length} bytes, ${
        bytes.length - offset
      } left`,
    );
  }
}

function decodeRecord(
  bytes: Uint8Array,
  view: DataView,
  offset: number,
): { record: DnsRecord; end: number } {
  const { name, end: fixedAt } = decodeName(bytes, offset);
  need(bytes, fixedAt, 10, "record");
  const type = view.getUint16(fixedAt);
  const rawClass = view.getUint16(fixedAt + 2);
  const common = {
    name,
    ttl: view.getUint32(fixedAt + 4),
    cacheFlush: (rawClass & CACHE_FLUSH_BIT) !== 0,
  };
  const length = view.getUint16(fixedAt + 8);
  const start = fixedAt + 10;
  need(bytes, start, length, `record ${name}`);
  const end = start + length;
  const data = bytes.subarray(start, end);
  const rclass = rawClass & 0x7fff;
  const wrongLength = (expected: string) =>
    new ProtocolError(`Cannot decode DNS record ${name}: ${length} bytes of data, ${expected}`);
  if (rclass !== CLASS_IN) {
    return { record: { ...common, kind: "other", type, class: rclass, data: data.slice() }, end };
  }
  switch (type) {
    case DnsType.A:
      if (length !== 4) throw wrongLength("an A record has 4");
      return { record: { ...common, kind: "A", address: data.join(".") }, end };
    case DnsType.AAAA: {
      if (length !== 16) throw wrongLength("an AAAA record has 16");
      return { record: { ...common, kind: "AAAA", address: formatIpv6(data) }, end };
    }
    case DnsType.PTR: {
      const target = decodeName(bytes, start);
      if (target.end !== end) throw wrongLength("the PTR target name does not fill them");
      return { record: { ...common, kind: "PTR", target: target.name }, end };
    }
    case DnsType.SRV: {
      if (length < 7) throw wrongLength("an SRV record has at least 7");
      const target = decodeName(bytes, start + 6);
      if (target.end !== end) throw wrongLength("the SRV target name does not fill them");
      const srv = {
        kind: "SRV" as const,
        priority: view.getUint16(start),
        weight: view.getUint16(start + 2),
        port: view.getUint16(start + 4),
        target: target.name,
      };
      return { record: { ...common, ...srv }, end };
    }
    case DnsType.TXT: {
      // RFC 6763 §6.1: empty data stands for one empty string.
      const strings: Uint8Array[] = length === 0 ? [new Uint8Array(0)] : [];
      for (let at = start; at < end; at += 1 + bytes[at]) {
        if (at + 1 + bytes[at] > end) throw wrongLength("a TXT string runs past them");
        strings.push(bytes.slice(at + 1, at + 1 + bytes[at]));
      }
      return { record: { ...common, kind: "TXT", strings }, end };
    }
    default:
      return { record: { ...common, kind: "other", type, class: rclass, data: data.slice() }, end };
  }
}
