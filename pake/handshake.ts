/**
 * The PAKE handshake driver: SPAKE2 plus key confirmation over one byte
 * stream (in p2pft, the first QUIC bidirectional stream). See PROTOCOL.md.
 *
 *   receiver (A, QUIC client)                 sender (B, QUIC server)
 *        SHARE(pA)  ------------------------>
 *                   <------------------------  SHARE(pB)
 *        CONFIRM(cA) ----------------------->
 *                   <------------------------  CONFIRM(cB)
 *
 * Both sides write their frame before reading the peer's, so each phase
 * costs one one-way trip and neither side waits on the other to go first.
 * A side sends its own CONFIRM before it checks the peer's, so a wrong code
 * makes both sides fail with CodeMismatchError rather than one of them
 * seeing a broken stream.
 *
 * Stream ownership: the driver locks the readable and the writable while it
 * runs, never closes or cancels them, and releases both locks when it
 * returns or throws. It reads exactly the bytes of the two frames it expects:
 * on a byte stream (QUIC) the next byte the peer sends stays in
 * `stream.readable`; on other streams use the returned `readable` (see
 * {@link PakeHandshakeResult.readable}). After a failure the caller should
 * close the connection.
 *
 * @module
 */
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  abortable,
  ByteReader,
  CodeMismatchError,
  ConnectionLostError,
  ProtocolError,
} from "../base/mod.ts";
import { decodeFrameHeader, encodeFrame, FRAME_HEADER_LENGTH, FrameType } from "./_frame.ts";
import { Spake2, type Spake2Share } from "./spake2.ts";

/** Options of {@link runPakeHandshake}. */
export interface PakeHandshakeOptions {
  /** "receiver" plays SPAKE2 role A (QUIC client), "sender" role B (QUIC server). */
  role: "sender" | "receiver";
  /**
   * The secret words of the code, e.g. "lantern-crossword", as `parseCode`
   * normalizes them (lower case, joined by "-"). Its UTF-8 bytes are the password.
   */
  code: string;
  /** The nameplate (room number), bound into both SPAKE2 identities. */
  nameplate: string;
  /**
   * The SHA-256 fingerprint (32 bytes) of the QUIC server certificate as this
   * side saw it in the TLS handshake: the client the pinned one, the server its own.
   */
  channelBinding: Uint8Array;
  /**
   * This side's SPAKE2 start, computed ahead with {@link startSpake} (or {@link shareSpake} and
   * {@link bindSpake}) and these same options (while the link was still being set up), so that the
   * handshake begins by sending its share.
   */
  started?: Promise<Spake2>;
  /** Aborts the handshake; it then rejects with `signal.reason`. */
  signal?: AbortSignal;
}

/** What a successful handshake yields. */
export interface PakeHandshakeResult {
  /** 32 bytes both sides share, known to no one without the code. */
  sessionKey: Uint8Array;
  /**
   * Where to keep reading: `stream.readable` itself, unlocked, unless the stream
   * is not a byte stream and the peer's next bytes arrived in the same chunk as
   * its CONFIRM frame; then a stream that yields those bytes first.
   */
  readable: ReadableStream<Uint8Array>;
}

/** Length of a SHA-256 certificate fingerprint, the channel binding. */
export const CHANNEL_BINDING_LENGTH = 32;
const SESSION_KEY_INFO = new TextEncoder().encode("p2pft session key v1");

/** SPAKE2 identity of the receiver (A): binds the nameplate into the transcript. */
export function receiverIdentity(nameplate: string): Uint8Array {
  return new TextEncoder().encode(`p2pft receiver ${nameplate}`);
}

/** SPAKE2 identity of the sender (B): binds the nameplate into the transcript. */
export function senderIdentity(nameplate: string): Uint8Array {
  return new TextEncoder().encode(`p2pft sender ${nameplate}`);
}

/**
 * This side's SPAKE2 start for a handshake with these options: its share takes three scalar
 * multiplications, which need nothing from the peer.
 */
export async function startSpake(
  options: Pick<PakeHandshakeOptions, "role" | "code" | "nameplate" | "channelBinding">,
): Promise<Spake2> {
  return bindSpake(await shareSpake(options.role, options.code), options);
}

/**
 * This side's share before the nameplate and the channel binding are known (they enter only the
 * finish): the multiplications, made as soon as the code's words are, while a side waits for its
 * peer (peer/_early_share.ts). Bind it once with {@link bindSpake}.
 */
export function shareSpake(role: "sender" | "receiver", code: string): Promise<Spake2Share> {
  return Spake2.share(role === "receiver" ? "A" : "B", new TextEncoder().encode(code));
}

/** A share from {@link shareSpake}, bound to the pairing's nameplate and the channel binding. */
export function bindSpake(
  share: Spake2Share,
  options: Pick<PakeHandshakeOptions, "nameplate" | "channelBinding">,
): Spake2 {
  return share.bind({
    identityA: receiverIdentity(options.nameplate),
    identityB: senderIdentity(options.nameplate),
    aad: options.channelBinding,
  });
}

/**
 * Runs SPAKE2 and key confirmation over `stream`. Resolves with the session
 * key once the peer proved it knows the same code and saw the same server
 * certificate. Rejects with CodeMismatchError if its confirmation MAC is wrong,
 * ProtocolError on malformed frames, an invalid point or a stream that ends
 * or fails early, and `signal.reason` on abort.
 */
export async function runPakeHandshake(
  stream: { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> },
  options: PakeHandshakeOptions,
): Promise<PakeHandshakeResult> {
  checkOptions(options);
  const { role, signal } = options;
  signal?.throwIfAborted();
  const spake = await (options.started ?? startSpake(options));

  const reader = new ByteReader(stream.readable, {
    what: "PAKE stream",
    signal,
    exact: true,
    failure: ConnectionLostError,
  });
  let writer: WritableStreamDefaultWriter<Uint8Array>;
  try {
    writer = stream.writable.getWriter();
  } catch (error) {
    reader.abandon();
    throw error;
  }
  try {
    // Write without waiting: an in-memory pipe accepts a write only when the
    // other end reads, and the other end is writing its own frame first too.
    const sentShare = settle(writer.write(encodeFrame(FrameType.Share, spake.message)));
    const peerShare = await readFrame(reader, FrameType.Share);
    const keys = await spake.finish(peerShare);

    // Queued behind SHARE; both are awaited before the verdict, so a failing
    // side has still handed its CONFIRM to the stream.
    const sentConfirm = settle(writer.write(encodeFrame(FrameType.Confirm, keys.ownConfirmation)));
    const peerMac = await readFrame(reader, FrameType.Confirm);
    const shareError = await abortable(sentShare, signal);
    const confirmError = await abortable(sentConfirm, signal);
    if (!keys.verifyPeerConfirmation(peerMac)) {
      const lost = role === "sender" ? "nothing was sent" : "nothing was received";
      throw new CodeMismatchError(
        `Code mismatch: the other side typed a different code (or someone is in the middle); ${lost}`,
      );
    }
    if (shareError !== undefined) throw sendError("SHARE", shareError);
    if (confirmError !== undefined) throw sendError("CONFIRM", confirmError);
    const sessionKey = hkdf(sha256, keys.sharedKey, undefined, SESSION_KEY_INFO, 32);
    return { sessionKey, readable: reader.release() };
  } finally {
    reader.abandon(); // No-op after a successful release() above.
    writer.releaseLock();
  }
}

async function readFrame(reader: ByteReader, type: FrameType): Promise<Uint8Array> {
  const name = type === FrameType.Share ? "SHARE" : "CONFIRM";
  const header = await reader.readExact(FRAME_HEADER_LENGTH, `PAKE ${name} frame header`);
  const { length } = decodeFrameHeader(header, type);
  return await reader.readExact(length, `PAKE ${name} frame payload`);
}

/** Turns a write into a promise of its error (undefined when it succeeded). */
function settle(write: Promise<void>): Promise<unknown> {
  return write.then(() => undefined, (error: unknown) => error ?? new Error("write failed"));
}

function sendError(name: string, error: unknown): ProtocolError {
  return new ProtocolError(
    `Cannot send PAKE ${name} frame: the stream failed: ${
      error instanceof Error ? error.message : String(error)
    }`,
    { cause: error },
  );
}

function checkOptions(options: PakeHandshakeOptions): void {
  if (options?.role !== "sender" && options?.role !== "receiver") {
    throw new TypeError(
      `Cannot run PAKE handshake: role "${options?.role}" is neither "sender" nor "receiver"`,
    );
  }
  if (typeof options.code !== "string" || options.code.length === 0) {
    throw new RangeError("Cannot run PAKE handshake: the code words are empty");
  }
  if (typeof options.nameplate !== "string" || options.nameplate.length === 0) {
    throw new RangeError("Cannot run PAKE handshake: the nameplate is empty");
  }
  const binding = options.channelBinding;
  if (!(binding instanceof Uint8Array) || binding.length !== CHANNEL_BINDING_LENGTH) {
    throw new RangeError(
      `Cannot run PAKE handshake: channelBinding must be a ${CHANNEL_BINDING_LENGTH}-byte ` +
        `SHA-256 fingerprint, got ${
          binding instanceof Uint8Array ? `${binding.length} bytes` : typeof binding
        }`,
    );
  }
}
