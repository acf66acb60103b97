/**
 * The rendezvous server's entry (`p2pft serve`, benches), apart from `mod.ts`
 * (the protocol and the client), so that a peer never loads the server's
 * modules. Wire format in PROTOCOL.md.
 * @module
 */
export { DEFAULT_RENDEZVOUS_PORT, RendezvousServer, type ServeOptions } from "./server/mod.ts";
