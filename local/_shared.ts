/** Types and helpers shared by announce.ts and browse.ts. */
import { formatIpv6, isIpv4Text, isReachableIpv6, parseIpv6 } from "../base/mod.ts";
import { MAX_ADDRESSES } from "./records.ts";

/** Who found whom on the LAN: what the punch needs in place of a rendezvous pairing. */
export interface LocalPairing {
  found: "local";
  nameplate: string;
  /** The punch token (16 bytes), chosen by the sender. */
  token: Uint8Array;
  /** Our punch id (16 bytes). */
  selfId: Uint8Array;
  peer: {
    /** The peer's punch id (16 bytes). */
    id: Uint8Array;
    /** Its LAN addresses with the port it punches on. */
    candidates: Deno.NetAddr[];
    /** Receiver only: the sender's certificate fingerprint (SHA-256 of DER), to pin. */
    fingerprint?: Uint8Array;
  };
}

/**
 * The port and addresses of an advert: IPv4, and IPv6 a peer can probe
 * (global or unique-local) in canonical text. RangeError unless they share
 * one valid port.
 */
export function advertAddresses(candidates: Deno.NetAddr[]): { port: number; addresses: string[] } {
  const port = candidates[0]?.port;
  const addresses = candidates.map((candidate) => {
    const ipv6 = parseIpv6(candidate.hostname);
    if (
      !(isIpv4Text(candidate.hostname) || (ipv6 && isReachableIpv6(ipv6))) ||
      candidate.port !== port || !(port > 0 && port < 65536)
    ) {
      throw new RangeError(
        `Cannot advertise candidate ${candidate.hostname}:${candidate.port} on the LAN: candidates must be IPv4, or global or unique-local IPv6, addresses sharing one port from 1 to 65535`,
      );
    }
    return ipv6 ? formatIpv6(ipv6) : candidate.hostname;
  });
  if (port === undefined || candidates.length > MAX_ADDRESSES) {
    throw new RangeError(
      `Cannot advertise ${candidates.length} candidates on the LAN: give 1 to ${MAX_ADDRESSES}`,
    );
  }
  return { port, addresses: [...new Set(addresses)] };
}

/** Retransmission schedule of queries and claims: 250 ms, doubling, at most 2 s. */
export function nextResend(previousMs: number | undefined): number {
  return previousMs === undefined ? 250 : Math.min(previousMs * 2, 2000);
}
