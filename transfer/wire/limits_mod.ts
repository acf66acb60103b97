/**
 * The transfer's limits on names, paths and counts, apart from `mod.ts`: `send` checks what it
 * scans against them before its offer, and loads the frames' codecs (eight modules) only after it.
 * @module
 */
export { LIMITS } from "./_frame.ts";
