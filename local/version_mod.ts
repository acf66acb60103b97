/**
 * The local discovery records' version, apart from `mod.ts`, so that `p2pft --version` prints it without loading the layer
 * (the records: `records.ts`).
 * @module
 */

/** Version of the local discovery records (the `v` key of the TXT record). */
export const LOCAL_VERSION = 2;
