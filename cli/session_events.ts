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

/** Warnings both sides print for what was not written and for files that changed while sent. */
export function reportWarnings(report: TransferReport): CliEvent[] {
  const kept = new Set(report.changed);
  return [
    ...report.notWritten.map(({ path, reason }): CliEvent => ({
      type: "warning",
      message: `Not written: ${path} (${reason})`,
    })),
    ...report.resent.map((path): CliEvent => ({
      type: "warning",
      message: kept.has(path)
        ? `${path} kept changing while it was sent; it arrived as read, not as one snapshot (--allow-changing)`
        : `${path} changed while it was sent; it was sent again from the start`,
    })),
  ];
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
    changed: report.changed,
  };
}
