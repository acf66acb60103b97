/**
 * A DNS-SD browse for every p2pft peer announcing on the LAN (`_p2pft._udp`
 * PTR records), for `p2pft doctor`: it claims nothing.
 */
import { sameName } from "./_dns_name.ts";
import { CLASS_IN, type DnsMessage, DnsType } from "./dns.ts";
import { MdnsSocket } from "./_mdns_socket.ts";
import { readAdvert, SERVICE_NAME } from "./records.ts";
import { nextResend } from "./_shared.ts";
import { waitAtMost } from "../base/mod.ts";

export interface BrowseAllOptions {
  /** Addresses (IPv4 or IPv6) of the interfaces to ask on (none: the IPv4 one the routing table picks). */
  interfaces: string[];
  /** How long to listen for answers (default 1500 ms). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A p2pft peer seen on the LAN. */
export interface LocalPeer {
  /** Its DNS-SD instance name (a hash of its nameplate or token: nothing secret). */
  instance: string;
  /** Its LAN addresses and port, when its records came along. */
  addresses: string[];
  port?: number;
}

const DEFAULT_TIMEOUT_MS = 1500;

/**
 * Asks for `_p2pft._udp.local` PTR records until `timeoutMs` passed and
 * returns the peers that answered, each once. Adverts of another local
 * discovery version are listed too, without addresses.
 */
export async function browseAll(options: BrowseAllOptions): Promise<LocalPeer[]> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const found = new Map<string, LocalPeer>();
  const socket = await MdnsSocket.open(options.interfaces);
  try {
    const query: DnsMessage = {
      id: 0,
      response: false,
      authoritative: false,
      questions: [{
        name: SERVICE_NAME,
        type: DnsType.PTR,
        class: CLASS_IN,
        unicastResponse: !socket.onMdnsPort,
      }],
      answers: [],
      authorities: [],
      additionals: [],
    };
    let interval: number | undefined;
    let resendAt = 0;
    while (!timeout.aborted) {
      const now = performance.now();
      if (now >= resendAt) {
        await socket.send(query);
        interval = nextResend(interval);
        resendAt = now + interval;
      }
      const received = await waitAtMost(resendAt - now, (wake) => socket.receive(wake), signal)
        .catch((error) => {
          if (timeout.aborted && !options.signal?.aborted) return undefined;
          throw error;
        });
      if (received === undefined || !received.message.response) continue;
      const records = [...received.message.answers, ...received.message.additionals];
      for (const record of records) {
        if (record.kind !== "PTR" || !sameName(record.name, SERVICE_NAME) || record.ttl === 0) {
          continue;
        }
        let advert;
        try {
          advert = readAdvert(received.message, record.target);
        } catch {
          advert = undefined; // another version: still a peer, seen
        }
        const known = found.get(record.target);
        if (known?.port !== undefined) continue;
        found.set(
          record.target,
          advert
            ? { instance: record.target, addresses: advert.addresses, port: advert.port }
            : { instance: record.target, addresses: [] },
        );
      }
    }
  } finally {
    await socket[Symbol.asyncDispose]();
  }
  return [...found.values()];
}
