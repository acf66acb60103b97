/**
 * The PAKE's wire version, apart from `mod.ts`, so that `p2pft --version` prints it without loading the layer (its
 * frames: `_frame.ts`).
 * @module
 */

/** Wire version of the PAKE handshake. A wire change bumps it. */
export const PAKE_VERSION = 1;
