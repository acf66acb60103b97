/**
 * The nameplate of a code made without a rendezvous server, apart from `mod.ts`: finding the
 * peer (peer/find) draws one without loading local discovery's sockets and DNS code, which it
 * loads only when it looks on the LAN.
 * @module
 */
export { localNameplate } from "./nameplate.ts";
