/**
 * Local discovery: a sender announces its offer over multicast DNS (DNS-SD,
 * `_p2pft._udp.local`) and a receiver on the same LAN finds it without a
 * rendezvous server. See local/PROTOCOL.md.
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
