/**
 * The transfer protocol's versions, apart from `mod.ts`, so that `p2pft --version` prints it without loading the layer
 * (the framing: `wire/_frame.ts`).
 * @module
 */

/**
 * Wire version in HELLO's and DATA_HELLO's first byte: 4, which every peer since version 4 reads.
 * Version 5's additions are used only once the peer said it speaks them (PROTOCOL.md, "Versioning").
 */
export const PROTOCOL_VERSION = 4;
/** The newest version this peer speaks: HELLO byte 3 (sender), PLAN_END's flags (receiver). */
export const SPOKEN_VERSION = 5;
