/** The transfer's frames and messages (../PROTOCOL.md): framing, payload codecs, batching. */
export { writeFrames } from "./_batch.ts";
export {
  encodeFileTrailer,
  encodeMore,
  encodeResent,
  FILE_TRAILER_BYTES,
  FileStatus,
} from "./_data_messages.ts";
export { batchEntries, decodeEntries, encodeEntry } from "./_entry_messages.ts";
export {
  DIGEST_BYTES,
  encodeFrame,
  FRAME_HEADER_BYTES,
  FrameType,
  LIMITS,
  MAX_STREAMS,
  parseFrameHeader,
  PROTOCOL_VERSION,
  readFrame,
  SPOKEN_VERSION,
  writeFrameHeader,
} from "./_frame.ts";
export {
  decodeCount,
  decodeDataHello,
  decodeDone,
  decodeError,
  decodeHello,
  decodeStart,
  encodeCount,
  encodeDataHello,
  encodeDone,
  encodeError,
  encodeHello,
  encodeStart,
  ErrorCode,
} from "./_messages.ts";
export type {
  Decision,
  Done,
  ErrorMessage,
  Hello,
  ManifestEntry,
  PlanItem,
  Start,
} from "./_messages.ts";
export {
  batchNotSent,
  decodeManifestEnd,
  decodeNotSent,
  encodeManifestEnd,
} from "./_offer_messages.ts";
export type { NotSent, SkipKind } from "./_offer_messages.ts";
export {
  batchDecisions,
  batchPlan,
  decodeDecisions,
  decodePlan,
  decodePlanEnd,
  encodePlanEnd,
} from "./_resume_messages.ts";
