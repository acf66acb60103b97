/**
 * Local discovery: a sender announces its offer over multicast DNS (DNS-SD,
 * `_p2pft._udp.local`) and a receiver on the same LAN finds it without a
 * rendezvous server. See local/PROTOCOL.md.
 *
 * Why our own DNS codec and mDNS socket (dns.ts, _dns_name.ts, _mdns_socket.ts:
 * 721 lines) rather than npm `multicast-dns` 7.2.5 (with dns-packet, thunky,
 * ip-codec: 2,556 lines, 174 KB), measured 2026-12-07 under Deno 2.9.6:
 * - start-up: importing either costs the same (medians of 11 fresh processes,
 *   load 20 on 2 cores: 177 ms for the library, 179 ms for this whole folder);
 * - IPv4: the library works under Deno's node:dgram (query and answer on a
 *   multicast loopback in a fresh namespace);
 * - IPv6: it takes one interface per instance (`interface` + `ip` required for
 *   udp6), and binding it to `::%if` fails under Deno ("bind UNKNOWN"); only
 *   `bind: "::"` with `interface: "::%if"` answers. Our one socket joins
 *   ff02::fb on every interface holding an address and sends on each, which
 *   the library would need one socket per interface for;
 * - it has no fallback to unicast answers when 5353 cannot be bound, and
 *   the browse/announce logic (records.ts, announce.ts, browse*.ts) stays
 *   ours either way: the library only moves DNS messages.
 * So no start-up gain and less IPv6 control for 721 lines: kept.
 */
export {
  announce,
  type AnnounceOptions,
  type LocalAnnouncement,
  type LocalOffer,
} from "./announce.ts";
export { browse, type BrowseOptions } from "./browse.ts";
export { browseAll, type BrowseAllOptions, type LocalPeer } from "./browse_all.ts";
export type { LocalPairing } from "./_shared.ts";
export { LOCAL_NAMEPLATE_MAX, LOCAL_NAMEPLATE_MIN, localNameplate } from "./nameplate.ts";
export { LOCAL_VERSION, SERVICE_NAME } from "./records.ts";
