/** Hole punching: candidates, probes, the punch state machine, sockets, the plan. */
export { bindPunchSockets, loadDgram } from "./_punch_socket.ts";
export type { PunchSockets } from "./_punch_socket.ts";
export type { Candidate, CandidateSource, PathKind, PunchResult } from "./_punch_state.ts";
export {
  hasGlobalIpv6,
  isIpv6,
  isLanAddress,
  localCandidates,
  onLinkIpv6Prefixes,
} from "./addresses.ts";
export { DatagramMux } from "./datagram_mux.ts";
export type { DatagramChannel } from "./datagram_mux.ts";
export { decodeProbe, encodeProbe, isProbeDatagram, PROBE_VERSION } from "./probe.ts";
export type { Probe } from "./probe.ts";
export { punch } from "./punch.ts";
export type { PunchOutcome } from "./punch.ts";
export { BIRTHDAY_PROBES_PER_SECOND, BIRTHDAY_SOCKETS, planPunch } from "./strategy.ts";
export type { NatMapping, PunchPlan, RelayMode } from "./strategy.ts";
