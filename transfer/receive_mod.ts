/**
 * A receiver's side of a transfer, apart from `mod.ts`, so that `receive` can load it while it
 * waits for its sender rather than before its first event (its planning, partials and publishing,
 * about twenty modules).
 * @module
 */
export { receiveFiles } from "./receive_files.ts";
export { peerWasTold } from "./_control.ts";
export { hasKeptPartials } from "./_kept_partials.ts";
