/** Public types of the transfer layer (see PROTOCOL.md). */
import type { NameRules } from "./_path_safety.ts";
import type { NotSent } from "./wire/mod.ts";
import type { Clash, OnExisting } from "./_receive_plan.ts";

export type { NotSent, SkipKind } from "./wire/mod.ts";

/** One bidirectional byte stream (a QUIC stream, a TLS link stream, or an in-memory pair in tests). */
export interface ByteStream {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
  /**
   * Reads into the caller's buffer in place, bypassing `readable` (a stream
   * read this way is never read through `readable`; cancelling `readable`
   * ends a read in flight). A TLS link's connections offer it: one record
   * per read; the stream machinery around each record cost 0.4-0.5 CPU s
   * per GiB more (one process reading TLS on loopback, same runs).
   */
  readInto?: (buffer: Uint8Array) => Promise<number | null>;
}

/** What a QUIC connection provides to a transfer (peer/connect.ts adapts Deno.QuicConn to it). */
export interface StreamConnection {
  /** Opens a new bidirectional stream to the peer. */
  openStream(options?: OpenStreamOptions): Promise<ByteStream>;
  /** Next bidirectional stream the peer opened. */
  acceptStream(): Promise<ByteStream>;
}

export interface OpenStreamOptions {
  /**
   * A data stream (bulk bytes, transfer/PROTOCOL.md "How many streams and
   * lanes"): the link may put it on another connection to the peer.
   */
  data?: boolean;
}

/** Progress: `bytes` done so far, including skipped and resumed bytes. */
export interface TransferProgress {
  bytes: number;
  /** Equal to `bytes` while `unknownSize`. */
  total: number;
  file: string;
  /** A stream of unknown size is under way: there is no total (and no ETA) yet. */
  unknownSize?: boolean;
  /**
   * Of `bytes`, those that were there before this run (resumed prefixes, identical files
   * skipped); absent when none: a rate counts only `bytes - already`.
   */
  already?: number;
}

/** What the sender offers; shown to the receiver's `confirm`. */
export interface Offer {
  files: number;
  directories: number;
  bytes: number;
  /** `unknownSize`: a file whose size is known only once read (a pseudo-file such as /proc/cpuinfo). */
  entries: ReadonlyArray<
    {
      path: string;
      size: number;
      kind: "file" | "directory" | "symlink";
      unknownSize?: boolean;
      /** A symlink's target (relative, inside the offer). */
      target?: string;
    }
  >;
  /** A text offer (no files): the text itself, shown before it is accepted. */
  text?: string;
  /** What the sender found inside folders but does not send (to show before accepting). */
  notSent?: NotSent[];
  /** Offered names that already exist in the output folder, and what happens to each. */
  existing?: Clash[];
  onExisting?: OnExisting;
  /** Entries this file system cannot hold: not written (with the reason). */
  unholdable?: Array<{ path: string; reason: string }>;
  /**
   * Files an earlier run left partly here: `bytes` of each are resumed if they match the
   * sender's (it compares their SHA-256 once accepted), else the file starts over.
   */
  resumes?: Array<{ path: string; bytes: number }>;
  /** The one file is a stream whose size is not known in advance (`bytes` is 0). */
  unknownSize?: boolean;
  /**
   * The sender sends a file that keeps changing while read as read (not a
   * snapshot) instead of failing; never more bytes than offered either way.
   */
  allowChanging?: boolean;
}

export interface SendFilesOptions {
  connection: StreamConnection;
  signal?: AbortSignal;
  onProgress?: (p: TransferProgress) => void;
  /** Parallel data streams, 1..16 (default 4). */
  streams?: number;
  /**
   * A file that changes while read is sent again once; if it changes again the
   * transfer fails, unless this is true: then it is sent as read and listed in
   * `changed` on both sides.
   */
  allowChanging?: boolean;
  /** Fail when nothing moved for this long in the data and confirmation phases (default 30 s). */
  stallTimeoutMs?: number;
  /** How long the receiver may take to accept the offer (default: `stallTimeoutMs`). */
  acceptTimeoutMs?: number;
  /**
   * Called when the receiver says it is asking its user to accept (ASKING, a receiver of
   * version 5). Not called when it accepts without asking (`--yes`), nor by a receiver of
   * version 4, which does not say.
   */
  onWaitingForAccept?: () => void;
}

export interface ReceiveFilesOptions {
  connection: StreamConnection;
  outDir: string;
  /**
   * Whether to accept `offer`. Call `asking` just before asking a person (not when accepting
   * without asking): the sender is told, and says it waits for the person.
   */
  confirm?: (offer: Offer, asking: () => void) => Promise<boolean>;
  /**
   * An offered name that exists in `outDir` is never overwritten: `rename`
   * (default) writes the entry beside it as `name (1).ext`, `skip` leaves it
   * out. An identical file of the same name is skipped either way.
   */
  onExisting?: OnExisting;
  /** What the file system under `outDir` cannot hold; probed there when not given. */
  nameRules?: NameRules;
  /**
   * Write the offer's single file here instead of under `outDir` (nothing
   * touches the disk); an offer of anything but one file or a text is refused.
   */
  sink?: WritableStream<Uint8Array>;
  signal?: AbortSignal;
  onProgress?: (p: TransferProgress) => void;
  /**
   * Fail when the sender sent nothing for this long: in the offer, the
   * decision (plus time to hash what we resume) and the data phase (default 30 s).
   */
  stallTimeoutMs?: number;
}

/**
 * An entry the receiver did not write: its file system cannot hold the name (`unholdable`), or
 * an entry of that name exists there and is kept (`exists`, `--existing skip`).
 */
export interface NotWritten {
  path: string;
  kind: "unholdable" | "exists";
  reason: string;
}

export interface TransferReport {
  files: number;
  directories: number;
  totalBytes: number;
  /** File bytes that crossed the wire in this run (resumed prefixes and skipped files excluded). */
  bytesTransferred: number;
  /**
   * One file (and no directory): that file's SHA-256 hex. Otherwise the
   * SHA-256 hex of the lines `<sha256 hex> <size> <path>\n`, one per file in
   * manifest order (see PROTOCOL.md, "Transfer digest").
   */
  sha256: string;
  seconds: number;
  resumedFiles: number;
  skippedFiles: number;
  /** Files that changed while read and were sent again from the start. */
  resent: string[];
  /** Files that kept changing and were sent as read (only with `allowChanging`): not a snapshot. */
  changed: string[];
  /**
   * Entries the receiver's file system cannot hold (case collisions where case
   * is ignored, names Windows refuses), not written; the receiver lists folders
   * too. They are left out of `sha256`.
   */
  notWritten: NotWritten[];
  /** What the sender found inside folders but could not send (special files, unreadable, names). */
  notSent?: NotSent[];
  /** The text of a text offer (`files` is 0). */
  text?: string;
  /** Receiver: entries written beside an existing one of the same name, and where (relative). */
  renamed?: Array<{ path: string; as: string }>;
  /** Receiver: the first 100 top-level names as written in `outDir` (folders end in `/`). */
  saved?: string[];
}
