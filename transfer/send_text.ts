/** The sending role for a short text: HELLO (text flag), TEXT, then wait for DONE. */
import { sha256 } from "@noble/hashes/sha2.js";
import { abortable, equalBytes, IntegrityError, toHex } from "../base/mod.ts";
import { peerError } from "./_control.ts";
import { ControlStream } from "./_control_stream.ts";
import {
  decodeDone,
  decodeError,
  encodeFrame,
  encodeHello,
  FrameType,
  readFrame,
  writeFrames,
} from "./wire/mod.ts";
import { encodeText, textReport } from "./_text_messages.ts";
import { DEFAULT_STREAMS, SEGMENT_SIZE } from "./send_files.ts";
import type { SendFilesOptions, TransferReport } from "./types.ts";

/**
 * Offers `text` (at most 64 KiB of UTF-8) instead of files. Resolves once the
 * receiver accepted it and confirmed its SHA-256 (DONE with 0 files). The
 * receiver's answer is bounded like a file offer's: `acceptTimeoutMs`, else
 * `stallTimeoutMs`.
 * @throws {RangeError} when the text is longer than the limit.
 */
export async function sendText(text: string, options: SendFilesOptions): Promise<TransferReport> {
  const payload = encodeText(text);
  using control = await ControlStream.open("sender", options);
  const { signal, watch, stallMs, writer, reader } = control;
  try {
    const hello = encodeHello({
      text: true,
      streams: DEFAULT_STREAMS,
      segmentSize: SEGMENT_SIZE,
      entries: 0,
      files: 0,
      directories: 0,
      totalBytes: payload.length,
    });
    await abortable(
      writeFrames(writer, [
        encodeFrame(FrameType.HELLO, hello),
        encodeFrame(FrameType.TEXT, payload),
      ]),
      signal,
    );
    const started = performance.now();
    // The receiver may be asking its user: bounded by how long we wait for an answer.
    watch.enter("decision", options.acceptTimeoutMs ?? stallMs);
    let frame = await abortable(
      readFrame(reader, {
        expect: [FrameType.DONE, FrameType.ERROR, FrameType.ASKING],
        what: "answer",
      }),
      signal,
    );
    if (frame.type === FrameType.ASKING) {
      options.onWaitingForAccept?.();
      frame = await abortable(
        readFrame(reader, { expect: [FrameType.DONE, FrameType.ERROR], what: "answer" }),
        signal,
      );
    }
    watch.stop();
    if (frame.type === FrameType.ERROR) throw peerError(decodeError(frame.payload), "receiver");
    const done = decodeDone(frame.payload);
    const digest = sha256(payload);
    if (done.files !== 0 || !equalBytes(done.digest, digest)) {
      throw new IntegrityError(
        `Receiver confirmed ${done.files} files with digest ${
          toHex(done.digest)
        }, expected the text's ${toHex(digest)}`,
      );
    }
    await control.finish();
    return textReport(text, payload, digest, started);
  } catch (error) {
    const reason = signal.aborted ? signal.reason : error;
    await control.fail(reason);
    throw reason;
  }
}
