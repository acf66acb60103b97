/** What a link is, whichever the transport: its interface, its end, data streams. */
export {
  decodeLinkEnd,
  encodeLinkEnd,
  MAX_END_MESSAGE_BYTES,
  MAX_END_REASON_BYTES,
  truncateUtf8,
} from "./_link_end.ts";
export { dataStreamsFor, lanesFor } from "./data_streams.ts";
export {
  cutPeerMessage,
  LINK_IDLE_TIMEOUT_MS,
  LINK_KEEP_ALIVE_MS,
  pausedMessage,
  silentPeerMessage,
} from "./link.ts";
export type { LinkEnd, OpenStreamOptions, PeerLink, Transport } from "./link.ts";
