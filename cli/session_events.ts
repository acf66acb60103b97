import { formatAddr, type PeerSession } from "../peer/mod.ts";
import type { TransferReport } from "../transfer/mod.ts";
import type { CliEvent } from "./output.ts";

/** The `connected` event both sides print once the peer is authenticated. */
export function connectedEvent(session: PeerSession): CliEvent {
  return {
    type: "connected",
    path: session.path,
    remote: formatAddr(session.remote),
    rttMs: session.rttMs,
    reason: session.reason,
  };
}

/** The `done` event both sides print once the receiver confirmed every hash. */
export function doneEvent(report: TransferReport, session: PeerSession): CliEvent {
  return {
    type: "done",
    bytes: report.bytesTransferred,
    total: report.totalBytes,
    files: report.files,
    seconds: report.seconds,
    sha256: report.sha256,
    path: session.path,
  };
}
