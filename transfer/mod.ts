/**
 * File transfer over an authenticated stream connection (QUIC, or the TLS link over TCP): manifest,
 * striped data streams, SHA-256 verification, resume. Wire format: PROTOCOL.md.
 */
export type {
  ByteStream,
  NotSent,
  NotWritten,
  Offer,
  OpenStreamOptions,
  ReceiveFilesOptions,
  SendFilesOptions,
  SkipKind,
  StreamConnection,
  TransferProgress,
  TransferReport,
} from "./types.ts";
export { DEFAULT_STREAMS, INLINE_MAX_BYTES, SEGMENT_SIZE, sendFiles } from "./send_files.ts";
export { receiveFiles } from "./receive_files.ts";
export { sendText } from "./send_text.ts";
export { scanPaths, type SkippedEntry, type SourceManifest } from "./scan_paths.ts";
export { streamManifest } from "./_stdin_source.ts";
export type { NameRules } from "./_path_safety.ts";
export type { Clash, OnExisting } from "./_receive_plan.ts";
export { MAX_STREAMS, PROTOCOL_VERSION, SPOKEN_VERSION } from "./wire/mod.ts";
export { peerWasTold } from "./_control.ts";
