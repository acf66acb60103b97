/**
 * The transfer's limits on names, paths, counts and streams, apart from `mod.ts`: `send` checks
 * what it scans against them before its offer, and peer/ caps its streams by them before it
 * registers; the frames' codecs (eight modules) load after that.
 * @module
 */
export { LIMITS, MAX_STREAMS } from "./_frame.ts";
