/**
 * Helpers shared by both roles: error frames in both directions, the
 * transfer digest.
 */
import {
  ConnectionLostError,
  IntegrityError,
  P2pftError,
  peerStoppedMessage,
  ProtocolError,
  systemErrorLine,
  toHex,
  TransferRefusedError,
  UnsafePathError,
  withinDeadline,
} from "../base/mod.ts";
import {
  encodeError,
  encodeFrame,
  ErrorCode,
  type ErrorMessage,
  FrameType,
  SPOKEN_VERSION,
} from "./wire/mod.ts";
import type { Sha256 } from "./_sha256.ts";

/** How long a side waits for an event from the peer once the transfer failed. */
const PEER_DEADLINE_MS = 2_000;

const fromPeer = new WeakSet<object>();
const toldPeer = new WeakSet<object>();

/** True for errors built from the peer's ERROR frame (no need to echo them back). */
export function isPeerError(error: unknown): boolean {
  return typeof error === "object" && error !== null && fromPeer.has(error);
}

/** True once this side sent `error` to the peer in an ERROR frame. */
export function peerWasTold(error: unknown): boolean {
  return typeof error === "object" && error !== null && toldPeer.has(error);
}

/**
 * Turns a received ERROR frame into the matching local error. Every code
 * reads "The <peer> stopped: <message>" ("The receiver declined the offer"
 * for a decline), the same words used when the reason arrives with the
 * session's end instead.
 */
export function peerError(frame: ErrorMessage, peer: "sender" | "receiver"): Error {
  const text = peerStoppedMessage(peer, frame.message);
  let error: Error;
  switch (frame.code) {
    case ErrorCode.PROTOCOL:
      error = new ProtocolError(text);
      break;
    case ErrorCode.INTEGRITY:
      error = new IntegrityError(text);
      break;
    case ErrorCode.REFUSED:
    case ErrorCode.CANCELLED:
      error = new TransferRefusedError(text);
      break;
    case ErrorCode.UNSAFE_PATH:
      error = new UnsafePathError(text);
      break;
    default:
      error = new P2pftError(text);
  }
  fromPeer.add(error);
  return error;
}

/**
 * Whether the peer should get an ERROR frame for `error`: not for its own
 * report, not when the connection is gone, and not for a cancellation, which
 * the session's end carries (PROTOCOL.md, "Ending").
 */
export function shouldTellPeer(error: unknown, signal: AbortSignal | undefined): boolean {
  return !isPeerError(error) && !(error instanceof ConnectionLostError) &&
    !(signal?.aborted && signal.reason === error);
}

/**
 * The ERROR frame that tells the peer what failed on this side; `tell` words
 * the message for the peer (what it must not learn taken out).
 */
export function errorFrame(error: unknown, tell: (message: string) => string = String): Uint8Array {
  const message = tell(systemErrorLine(error instanceof Error ? error.message : String(error)));
  let code: number = ErrorCode.FAILED;
  if (error instanceof ProtocolError) code = ErrorCode.PROTOCOL;
  else if (error instanceof IntegrityError) code = ErrorCode.INTEGRITY;
  else if (error instanceof TransferRefusedError) code = ErrorCode.REFUSED;
  else if (error instanceof UnsafePathError) code = ErrorCode.UNSAFE_PATH;
  return encodeFrame(FrameType.ERROR, encodeError({ code, message: message || String(error) }));
}

/**
 * Writes the ERROR frame for `error` and closes the writer (FIN, so the frame
 * is delivered). The write is bounded by a deadline: a stalled stream must not
 * hold up the failure.
 */
export async function sendErrorAndClose(
  writer: WritableStreamDefaultWriter<Uint8Array>,
  error: unknown,
  tell?: (message: string) => string,
): Promise<void> {
  toldPeer.add(error as object);
  const sent = writer.write(errorFrame(error, tell)).then(() => writer.close()).catch(() => {});
  await withinDeadline(sent, PEER_DEADLINE_MS);
}

/**
 * A data stream that broke usually has a reason the peer stated on the
 * control stream: wait for `peerAnswer` (the control stream's next frame,
 * which settles with the peer's ERROR or once the connection is gone) and
 * prefer the peer's report over `error`.
 */
export async function preferPeerError(
  error: unknown,
  peerAnswer: Promise<unknown>,
): Promise<unknown> {
  if (!(error instanceof ConnectionLostError)) return error;
  try {
    await withinDeadline(peerAnswer, PEER_DEADLINE_MS);
  } catch (reason) {
    if (isPeerError(reason)) return reason;
  }
  return error;
}

/** About the bytes of one file's line in the transfer digest: picks its SHA-256 (`newSha256`). */
export const DIGEST_LINE_BYTES = 100;

/** Characters of digest lines encoded and hashed at once. */
const DIGEST_CHUNK = 64 * 1024;

/**
 * The transfer digest (see PROTOCOL.md): a single file without directories is
 * that file's SHA-256; otherwise SHA-256 over `<hex> <size> <path>\n` per file.
 * The lines are hashed 64 Ki characters at a time: an encode and a hash call
 * per file cost 7 µs a file of a tree. `hash`: a fresh SHA-256, the same kind on
 * both sides (`newSha256(entries × DIGEST_LINE_BYTES)`): 21,000 files' lines
 * are 2 MB, which node:crypto's hashes many times faster than noble's.
 */
export function transferDigest(
  files: Iterable<{ path: string; size: number; sha256: string }>,
  directories: number,
  hash: Sha256,
): string {
  const utf8 = new TextEncoder();
  let count = 0;
  let last = "";
  let lines = "";
  for (const file of files) {
    count++;
    last = file.sha256;
    lines += `${file.sha256} ${file.size} ${file.path}\n`;
    if (lines.length < DIGEST_CHUNK) continue;
    hash.update(utf8.encode(lines));
    lines = "";
  }
  hash.update(utf8.encode(lines));
  return count === 1 && directories === 0 ? last : toHex(hash.digest());
}

/**
 * The receiver's `asking` for `confirm` (version 5): once, just before it asks its user, it tells
 * a sender that speaks version 5 with ASKING, which then says it waits for the person to accept.
 * A sender of version 4 never gets the frame (it would not know it).
 */
export function askingNotice(
  writer: WritableStreamDefaultWriter<Uint8Array>,
  speaks: number,
): () => void {
  let told = speaks < SPOKEN_VERSION;
  return () => {
    if (told) return;
    told = true;
    // A failed write is the control stream's failure, which the next read or write reports.
    writer.write(encodeFrame(FrameType.ASKING, new Uint8Array(0))).catch(() => {});
  };
}
