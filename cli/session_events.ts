import { formatAddr, IncompleteTransferError, normalizeIp } from "../base/mod.ts";
import type { PairedInfo } from "../peer/find/mod.ts";
import type { PathFacts } from "../peer/mod.ts";
import type { NotWritten, SkipKind, TransferReport } from "../transfer/mod.ts";
import type { CliEvent } from "./output.ts";
import { shownName, SKIP_WORDS } from "./offer_view.ts";

/** One entry that did not arrive, as `done.skipped` lists it. */
export interface SkippedItem {
  path: string;
  /**
   * A SkipKind (the sender did not send it), `unholdable` (the receiver's file system cannot hold
   * the name) or `exists` (the receiver keeps the entry of that name it has: `--existing skip`).
   */
  kind: SkipKind | NotWritten["kind"];
  reason: string;
}

/** `done.skipped` lists at most this many (the rest is counted in `skippedMore`). */
const SKIPPED_LISTED = 1000;

/** Everything that did not arrive: what the sender did not send, then what was not written. */
export function skippedItems(report: TransferReport): SkippedItem[] {
  return [
    ...(report.notSent ?? []).map(({ path, kind }) => ({
      path,
      kind,
      reason: `not sent: ${SKIP_WORDS[kind]}`,
    })),
    ...report.notWritten.map(({ path, kind, reason }) => ({
      path,
      kind,
      reason: `not written: ${reason}`,
    })),
  ];
}

/** Entries named in the sender's last line; the rest are counted (all are listed above). */
const NAMED_IN_LINE = 3;

/**
 * After `done`: a transfer that left entries behind ends with exit 3
 * (`IncompleteTransferError`) and one line saying so; the sender's says what it did not send
 * and what the receiver did not write, its side of it.
 */
export function assertComplete(report: TransferReport, side: "sender" | "receiver"): void {
  const count = skippedItems(report).length;
  if (count === 0) return;
  throw new IncompleteTransferError(
    `Not everything arrived: ${count} ${count === 1 ? "entry was" : "entries were"} skipped${
      side === "sender" ? senderSide(report) : ""
    } (listed above, and in done.skipped with --json)`,
  );
}

/** ": not sent from here: d/link (symbolic link); not written by the receiver: 2". */
function senderSide(report: TransferReport): string {
  const notSent = report.notSent ?? [];
  const named = notSent.slice(0, NAMED_IN_LINE)
    .map((item) => `${shownName(item.path)} (${SKIP_WORDS[item.kind]})`);
  const more = notSent.length - named.length;
  return [
    ...named.length
      ? [`not sent from here: ${named.join(", ")}${more ? `, and ${more} more` : ""}`]
      : [],
    ...report.notWritten.length ? [`not written by the receiver: ${report.notWritten.length}`] : [],
  ].map((part, index) => `${index === 0 ? ": " : "; "}${part}`).join("");
}

/** This host's addresses, as `Deno.networkInterfaces()` lists them (none without the permission). */
export type HostAddresses = readonly { address: string }[];

function hostAddresses(): HostAddresses {
  try {
    return Deno.networkInterfaces();
  } catch {
    return [];
  }
}

/**
 * Whether `ip` is this computer: loopback or one of its own interfaces' addresses (two
 * processes on one host meet on its LAN address, an `fd00::2` a person would not recognise).
 */
export function onThisComputer(ip: string, addresses: HostAddresses = hostAddresses()): boolean {
  const own = normalizeIp(ip);
  if (own === "::1" || own.startsWith("127.")) return true;
  return addresses.some((entry) => normalizeIp(entry.address.split("%")[0]) === own);
}

/** The `paired` event: the nameplate, where the peer is and how it was found. */
export function pairedEvent(
  paired: PairedInfo,
  addresses?: HostAddresses,
): Extract<CliEvent, { type: "paired" }> {
  return {
    type: "paired",
    nameplate: paired.nameplate,
    peer: formatAddr(paired.peer),
    found: paired.found,
    ...(onThisComputer(paired.peer.hostname, addresses) ? { thisComputer: true } : {}),
  };
}

/** The `connected` event both sides print once the peer is authenticated. */
export function connectedEvent(
  facts: PathFacts,
  addresses?: HostAddresses,
): Extract<CliEvent, { type: "connected" }> {
  // Through the relay the remote is the relaying server, wherever the peer is.
  const here = facts.path !== "relay" && onThisComputer(facts.remote.hostname, addresses);
  return {
    type: "connected",
    path: facts.path,
    remote: formatAddr(facts.remote),
    rttMs: facts.rttMs,
    reason: describePath(facts),
    transport: facts.transport,
    candidate: facts.candidate,
    nat: { self: facts.nat.self, peer: facts.nat.peer },
    ...(here ? { thisComputer: true } : {}),
  };
}

/** One line a person reads: why this path. */
export function describePath(facts: PathFacts): string {
  const where = formatAddr(facts.remote);
  const took = `answered in ${Math.round(facts.rttMs)} ms`;
  let reason: string;
  if (facts.path === "relay" && !facts.triedDirect) {
    // Either side's wish: a peer's --relay-only reaches this side at pairing.
    reason = `relaying through ${where} as --relay-only on one side asks (end-to-end encrypted)`;
  } else if (facts.chosenBy === "peer") reason = `the receiver chose ${where}`;
  else if (facts.path === "lan") reason = `private address ${where} ${took}`;
  else if (facts.path === "direct") {
    reason = `public address ${where} (${facts.candidate}) ${took}; no private address answered`;
  } else {
    reason = `no direct address answered; relaying through ${where} (end-to-end encrypted)`;
  }
  if (facts.path !== "relay") return reason;
  // Say why nothing direct worked: the NAT mappings both sides have.
  return `${reason}; NAT mapping: ours ${facts.nat.self}, the peer's ${facts.nat.peer}`;
}

/** Warnings both sides print for what was not written and for files that changed while sent. */
export function reportWarnings(report: TransferReport): CliEvent[] {
  const kept = new Set(report.changed);
  return [
    ...(report.notSent ?? []).map(({ path, kind }): CliEvent => ({
      type: "warning",
      message: `Not sent: ${shownName(path)} (${SKIP_WORDS[kind]})`,
    })),
    ...report.notWritten.map(({ path, reason }): CliEvent => ({
      type: "warning",
      message: `Not written: ${shownName(path)} (${reason})`,
    })),
    ...(report.renamed ?? []).map(({ path, as }): CliEvent => ({
      type: "warning",
      message: `${shownName(path)} already existed: written beside it as ${shownName(as)}`,
    })),
    ...[...new Set([...report.resent, ...report.changed])].map((path): CliEvent => ({
      type: "warning",
      message: kept.has(path)
        ? `${
          shownName(path)
        } kept changing while it was sent; it arrived as read, not as one snapshot (--allow-changing)`
        : `${shownName(path)} changed while it was sent; it was sent again from the start`,
    })),
  ];
}

/** The `done` event both sides print once the receiver confirmed every hash. */
export function doneEvent(report: TransferReport, facts: PathFacts): CliEvent {
  return {
    type: "done",
    bytes: report.bytesTransferred,
    total: report.totalBytes,
    files: report.files,
    seconds: report.seconds,
    sha256: report.sha256,
    path: facts.path,
    changed: report.changed,
    ...skippedFields(report),
    ...(report.renamed && report.renamed.length > 0
      ? { renamed: report.renamed.slice(0, SKIPPED_LISTED) }
      : {}),
  };
}

function skippedFields(report: TransferReport): { skipped: SkippedItem[]; skippedMore?: number } {
  const all = skippedItems(report);
  if (all.length <= SKIPPED_LISTED) return { skipped: all };
  return { skipped: all.slice(0, SKIPPED_LISTED), skippedMore: all.length - SKIPPED_LISTED };
}
