/**
 * The rendezvous wire version, apart from `mod.ts`, so that `p2pft --version` prints it without loading the layer (the
 * codec: `wire/_wire.ts`).
 * @module
 */

/** Wire version written after the magic. */
export const PROTOCOL_VERSION = 4;
