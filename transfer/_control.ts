/**
 * Helpers shared by both roles: error frames in both directions, the
 * transfer digest.
 */
import {
  IntegrityError,
  P2pftError,
  ProtocolError,
  TransferRefusedError,
  UnsafePathError,
} from "../errors.ts";
import { createHash } from "node:crypto";
import { encodeFrame, FrameType } from "./_frame.ts";
import { encodeError, ErrorCode, type ErrorMessage } from "./_messages.ts";

const fromPeer = new WeakSet<object>();

/** True for errors built from the peer's ERROR frame (no need to echo them back). */
export function isPeerError(error: unknown): boolean {
  return typeof error === "object" && error !== null && fromPeer.has(error);
}

/** Turns a received ERROR frame into the matching local error. */
export function peerError(frame: ErrorMessage, peer: "sender" | "receiver"): Error {
  const text = frame.message;
  let error: Error;
  switch (frame.code) {
    case ErrorCode.PROTOCOL:
      error = new ProtocolError(`The ${peer} reported a protocol error: ${text}`);
      break;
    case ErrorCode.INTEGRITY:
      error = new IntegrityError(text);
      break;
    case ErrorCode.REFUSED:
      error = new TransferRefusedError(text);
      break;
    case ErrorCode.UNSAFE_PATH:
      error = new UnsafePathError(text);
      break;
    case ErrorCode.CANCELLED:
      error = new TransferRefusedError(`The ${peer} cancelled the transfer: ${text}`);
      break;
    default:
      error = new P2pftError(`The ${peer} failed: ${text}`);
  }
  fromPeer.add(error);
  return error;
}

/** The ERROR frame that tells the peer why this side stopped. */
export function errorFrame(error: unknown, signal: AbortSignal | undefined): Uint8Array {
  const message = error instanceof Error ? error.message : String(error);
  let code: number = ErrorCode.FAILED;
  if (signal?.aborted && signal.reason === error) code = ErrorCode.CANCELLED;
  else if (error instanceof ProtocolError) code = ErrorCode.PROTOCOL;
  else if (error instanceof IntegrityError) code = ErrorCode.INTEGRITY;
  else if (error instanceof TransferRefusedError) code = ErrorCode.REFUSED;
  else if (error instanceof UnsafePathError) code = ErrorCode.UNSAFE_PATH;
  return encodeFrame(FrameType.ERROR, encodeError({ code, message: message || String(error) }));
}

/**
 * Best effort: write an ERROR frame, then close the writer (FIN, so the frame
 * is delivered). Waits at most `graceMs` for the stream to take it.
 */
export async function sendErrorAndClose(
  writer: WritableStreamDefaultWriter<Uint8Array>,
  frame: Uint8Array,
  graceMs = 1000,
): Promise<void> {
  const sent = writer.write(frame).then(() => writer.close()).catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([sent, new Promise((resolve) => timer = setTimeout(resolve, graceMs))]);
  clearTimeout(timer);
}

/**
 * A failed data stream usually has a reason the peer stated on the control
 * stream, which may arrive a moment later: wait up to `graceMs` for
 * `peerAnswer` to reject with it, and prefer it over `error`.
 */
export async function preferPeerError(
  error: unknown,
  peerAnswer: Promise<unknown>,
  graceMs = 1000,
): Promise<unknown> {
  if (isPeerError(error) || !(error instanceof ProtocolError)) return error;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      peerAnswer,
      new Promise((resolve) => timer = setTimeout(resolve, graceMs)),
    ]);
  } catch (reason) {
    if (isPeerError(reason)) return reason;
  } finally {
    clearTimeout(timer);
  }
  return error;
}

/**
 * The transfer digest (see PROTOCOL.md): a single file without directories is
 * that file's SHA-256; otherwise SHA-256 over `<hex> <size> <path>\n` per file.
 */
export function transferDigest(
  files: ReadonlyArray<{ path: string; size: number; sha256: string }>,
  directories: number,
): string {
  if (files.length === 1 && directories === 0) return files[0].sha256;
  const hash = createHash("sha256");
  for (const file of files) hash.update(`${file.sha256} ${file.size} ${file.path}\n`);
  return hash.digest("hex");
}
