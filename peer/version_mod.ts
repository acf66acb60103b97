/**
 * The versions of peer/'s own wire formats, apart from `mod.ts`, so that `p2pft --version` prints it without loading the layer
 * (their codecs: `punch/probe.ts`, `tls/_wire.ts`).
 * @module
 */

/** Version of the punch probes. */
export const PROBE_VERSION = 1;
/** Version of the TLS link preamble and control frames. */
export const TLS_LINK_VERSION = 3;
