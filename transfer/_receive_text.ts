/** The receiving role for a text offer: confirm, answer DONE with the text's SHA-256. */
import { sha256 } from "@noble/hashes/sha2.js";
import { abortable, type ByteReader, DECLINED_MESSAGE, DeclinedError } from "../base/mod.ts";
import { encodeDone, encodeFrame, FrameType } from "./wire/mod.ts";
import { textReport } from "./_text_messages.ts";
import type { Offer, TransferReport } from "./types.ts";

export interface ReceiveTextOptions {
  writer: WritableStreamDefaultWriter<Uint8Array>;
  reader: ByteReader;
  confirm?: (offer: Offer, asking: () => void) => Promise<boolean>;
  /** Tells the sender that the user is asked (`askingNotice`). */
  asking: () => void;
  signal: AbortSignal;
}

/** Shows `text` to `confirm`, then confirms it to the sender; nothing touches the disk. */
export async function receiveText(
  text: string,
  options: ReceiveTextOptions,
): Promise<TransferReport> {
  const { writer, reader, signal } = options;
  const bytes = new TextEncoder().encode(text);
  const offer: Offer = { files: 0, directories: 0, bytes: bytes.length, entries: [], text };
  if (options.confirm && !(await abortable(options.confirm(offer, options.asking), signal))) {
    throw new DeclinedError(DECLINED_MESSAGE);
  }
  const started = performance.now();
  const digest = sha256(bytes);
  await abortable(
    writer.write(encodeFrame(FrameType.DONE, encodeDone({ files: 0, digest }))),
    signal,
  );
  await writer.close().catch(() => {});
  // The sender ends its side once it has read DONE; the text is ours either way.
  await reader.atEnd().catch(() => {});
  return textReport(text, bytes, digest, started);
}
