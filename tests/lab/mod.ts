/**
 * The p2pft network lab: namespaces, NAT routers and shaped public links for
 * end-to-end tests. See README.md.
 */
export { createLab } from "./lab.ts";
export type { Lab, LabExecResult, LabSpawnOptions } from "./lab.ts";
export type { Ipv6Mode, LabOptions, NatKind } from "./_plan.ts";
export { RENDEZVOUS_NAME } from "./_plan.ts";
export type { LabHost, LabRouter } from "./_addresses.ts";
export { labAvailable, labSkip } from "./available.ts";
export type { LabAvailability } from "./available.ts";
export { cleanupLabs } from "./cleanup.ts";
export type { CleanupOptions, CleanupReport } from "./cleanup.ts";
export { type BareNamespace, createBareNamespace } from "./bare.ts";
