/**
 * Error classes shared by every layer of p2pft. `../main.ts` maps them to exit
 * codes and one-line messages; everything else throws them with `{ cause }`.
 */

/** Base class of every error p2pft raises on purpose. */
export class P2pftError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Malformed or unexpected data from the wire. */
export class ProtocolError extends P2pftError {}

/** The peer used a different code: the PAKE key confirmation failed. */
export class CodeMismatchError extends P2pftError {}

/** Received bytes do not match the sender's size or hash. */
export class IntegrityError extends P2pftError {}

/** No candidate address answered the punch probes in time. */
export class NoPathError extends P2pftError {}

/** The rendezvous server refused a request (unknown nameplate, room full, ...). */
export class RendezvousError extends P2pftError {}

/** A wait ran out of time (no peer came, no answer from the server, ...). */
export class TimeoutError extends P2pftError {}

/** The receiver refused what was offered, or the sender refused to continue. */
export class TransferRefusedError extends P2pftError {}

/**
 * This side's user said no to the offer: not a failure on their side (the CLI says
 * "Declined." without "error:"). The peer reads DECLINED_MESSAGE in the ERROR frame and gets
 * a plain TransferRefusedError.
 */
export class DeclinedError extends TransferRefusedError {}

/** The ERROR frame's message for a declined offer (transfer/PROTOCOL.md, ERROR 3). */
export const DECLINED_MESSAGE = "The offer was declined";

/**
 * How one side words the reason the peer gave for stopping: "The <peer> stopped: <message>",
 * and for a declined offer the natural "The receiver declined the offer".
 */
export function peerStoppedMessage(peer: "sender" | "receiver", message: string): string {
  if (peer === "receiver" && message === DECLINED_MESSAGE) return "The receiver declined the offer";
  return `The ${peer} stopped: ${message}`;
}

/**
 * An operating-system error's reason only: "Permission denied" for Deno's "Permission denied (os
 * error 13): open '/tmp/x/d/secret.txt'", whose tail repeats, absolute, a path the caller names
 * as the user knows it (`--verbose` shows the whole error, the cause).
 */
export function osReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/ \(os error \d+\).*$/s, "");
}

/**
 * An operating-system error as one line that names what failed: Deno's "Permission denied (os
 * error 13): open '/in/d/x.txt'" reads "Cannot open /in/d/x.txt: Permission denied" (a rename
 * names both paths). Any other message is returned as it is.
 */
export function systemErrorLine(message: string): string {
  const match = /^(.+) \(os error \d+\): (\w+) '([^']*)'(?: -> '([^']*)')?$/s.exec(message);
  if (!match) return message;
  const [, reason, operation, path, to] = match;
  return `Cannot ${operation} ${path}${to === undefined ? "" : ` to ${to}`}: ${reason}`;
}

/** A received file name or path would be unsafe to create. */
export class UnsafePathError extends P2pftError {}

/** The peer or the path went away (closed, reset, timed out): not malformed data. */
export class ConnectionLostError extends P2pftError {}

/** A source file changed while it was read, again after it was sent a second time. */
export class SourceChangedError extends TransferRefusedError {}

/** The receiver's disk filled up; the partial keeps what arrived, for the next run to resume. */
export class DiskFullError extends P2pftError {
  constructor(
    message: string,
    /** Where: the folder, the partial kept, and how many more bytes the transfer needs. */
    readonly details: { folder: string; partial: string; missingBytes: number },
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The offer does not fit in the output folder's file system: refused before the prompt and before
 * any byte moves (the sender reads it as ERROR 3). A disk that fills later is a `DiskFullError`.
 */
export class NotEnoughSpaceError extends TransferRefusedError {
  constructor(
    message: string,
    /** The output folder, the bytes still to write there and the bytes free for us. */
    readonly details: { folder: string; neededBytes: number; freeBytes: number },
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The transfer finished, but some entries were skipped and did not arrive (exit 3). */
export class IncompleteTransferError extends P2pftError {}

/** The command line was wrong: an unknown flag, a missing or malformed argument (exit 2). */
export class UsageError extends P2pftError {}

/** The rendezvous server's shared room store (Redis) did not answer or failed. */
export class StoreUnavailableError extends P2pftError {}
