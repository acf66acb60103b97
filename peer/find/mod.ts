/** Finding the peer: through the rendezvous server (UDP or TCP) or the LAN, first wins. */
export { findPeer, resolveServer } from "./_find_peer.ts";
export type {
  FindPeerOptions,
  FoundPeer,
  PairedInfo,
  ServerFound,
  ServerName,
} from "./_find_peer.ts";
