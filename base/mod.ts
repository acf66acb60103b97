/** Plumbing every layer shares: errors, bytes, IP text, deadlines, exact reads, pipes. */
export { abortable, deadline, waitAtMost, withDeadline, withinDeadline } from "./async.ts";
export { EventLoopTurns, nextTurn } from "./async.ts";
export type { Awaitable } from "./async.ts";
export { ByteReader, fillFrom } from "./byte_reader.ts";
export type { FillOptions, InPlaceSource, ReadProgress, ReadsInto } from "./byte_reader.ts";
export {
  concatBytes,
  equalBytes,
  formatBytes,
  formatBytesAtLeast,
  fromHex,
  toHex,
  utf8Length,
} from "./bytes.ts";
export { DatagramQueue, Queue } from "./queue.ts";
export type { Datagram } from "./queue.ts";
export {
  CodeMismatchError,
  ConnectionLostError,
  DECLINED_MESSAGE,
  DeclinedError,
  DiskFullError,
  IncompleteTransferError,
  IntegrityError,
  NoPathError,
  NotEnoughSpaceError,
  osReason,
  P2pftError,
  peerStoppedMessage,
  ProtocolError,
  RendezvousError,
  SourceChangedError,
  StoreUnavailableError,
  systemErrorLine,
  TimeoutError,
  TransferRefusedError,
  UnsafePathError,
  UsageError,
} from "./errors.ts";
export {
  bindEitherStack,
  canonicalIp,
  formatAddr,
  formatIpv6,
  inIpv6Prefix,
  isIpv4Mapped,
  isIpv4Text,
  isReachableIpv6,
  lacksIpv6,
  normalizeAddr,
  normalizeIp,
  parseIpv4,
  parseIpv6,
  sameAddr,
} from "./ip.ts";
export { freeSpace } from "./free_space.ts";
export type { FreeSpace } from "./free_space.ts";
export { mergeLimits } from "./limits.ts";
export { basename, dirname, join, relative, resolve, SEP } from "./path.ts";
export { nearest } from "./nearest.ts";
export { pipeConn } from "./pipe_conn.ts";
export { writeAll, writeAllSync } from "./write_all.ts";
export type { PartialWriter, PartialWriterSync } from "./write_all.ts";
export { warmCrypto } from "./warm_crypto.ts";
