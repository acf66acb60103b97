/** The QUIC link: endpoints from Deno.QuicEndpoint, streams, pause watch. */
export { acceptPeer, dialPeer } from "./quic.ts";
