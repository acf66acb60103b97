/**
 * A sender's side of a transfer (files, texts, the streams an offer opens first, and the stream
 * limit peer/ caps its count by), apart from `mod.ts`, so that a sender does not load the
 * receiver's planning, partials and publishing (a dozen modules on the way to registering with the
 * rendezvous server).
 * @module
 */
export type { TransferReport } from "./types.ts";
export { sendFiles } from "./send_files.ts";
export { sendText } from "./send_text.ts";
export { MAX_STREAMS } from "./wire/mod.ts";
export { peerWasTold } from "./_control.ts";
