import type { NatMapping } from "../peer/mod.ts";
import type { Check } from "./doctor_checks.ts";
import { describeOffer, formatBytes, formatDuration, formatRate } from "./format.ts";
import {
  escapeControls,
  escapeTextControls,
  type OfferedEntry,
  offerLines,
  type OfferView,
  shownName,
} from "./offer_view.ts";
import { OrderedWriter, type WriterSink } from "./ordered_writer.ts";
import type { SkippedItem } from "./session_events.ts";

/**
 * Every event the CLI reports; with --json each is one line of stdout, with one
 * more field `t`: when it was emitted, in ms since Deno's runtime started in this
 * process (`performance.now()`, monotonic; tens of ms after the process itself),
 * so any run's phases can be read from its events.
 */
export type CliEvent =
  | {
    type: "listening";
    host: string;
    port: number;
    altPort: number;
    relayPort?: number;
    /** Also on TCP: rendezvous on `port`, and the TCP relay on `relayPort`. */
    tcp: boolean;
    /** Where rooms live: `memory`, or the shared Redis store's URL (`serve` always says). */
    store?: string;
    /** `--metrics`: where Prometheus metrics are served. */
    metrics?: string;
  }
  | { type: "code"; code: string; qr?: string }
  | { type: "nat"; mapping: NatMapping }
  /** `found`: how the peer was found, on the local network or through the rendezvous server. */
  /** `thisComputer`: the peer runs on this host (present only then). */
  | {
    type: "paired";
    nameplate: string;
    peer: string;
    found: "local" | "server";
    thisComputer?: true;
  }
  | {
    type: "connected";
    path: "direct" | "lan" | "relay";
    remote: string;
    /** The peer runs on this host (present only then; never on a relayed path). */
    thisComputer?: true;
    rttMs: number;
    reason: string;
    transport: "quic" | "tcp";
    /** Where the winning address came from: private, server, peer-reflexive, birthday, relay. */
    candidate: string;
    nat: { self: NatMapping; peer: NatMapping };
  }
  | ({
    type: "offer";
    files: number;
    directories: number;
    bytes: number;
    /** A text instead of files, or one stream of unknown size (`bytes` 0); absent: files. */
    kind?: "text" | "stream";
    /** Receiver: the sender passed --allow-changing (a file may arrive as read, not a snapshot). */
    allowChanging?: boolean;
  } & Partial<OfferView>)
  /** Receiver, --json: the offer's entries past the `offer` event's `entries`, `from` their index. */
  | { type: "manifest"; from: number; entries: OfferedEntry[] }
  /** Waiting on the peer: `accept` (sender: the receiver decides), `sender` (receiver started first). */
  | { type: "waiting"; for: "accept" | "sender"; seconds: number }
  /** `send --text -` reads a text typed on the terminal. */
  | { type: "waiting"; for: "stdin" }
  | {
    type: "progress";
    bytes: number;
    total: number;
    file: string;
    /** A stream of unknown size: `total` equals `bytes`, and there is no ETA. */
    unknownSize?: boolean;
    /** Of `bytes`, those there before this run (resumed, skipped); absent when none. */
    already?: number;
  }
  /** A received text (printed as is without --json). */
  | { type: "text"; text: string }
  /** With --receivers N: how the `receiver`-th receiver went; `served` of `of` are done. */
  | {
    type: "receiver";
    receiver: number;
    of: number;
    served: number;
    ok: boolean;
    remote?: string;
    sha256?: string;
    message?: string;
  }
  /** One line of `p2pft doctor`. */
  | ({ type: "check" } & Check)
  /** With --receivers N: the end of the code. */
  | { type: "summary"; receivers: number; succeeded: number; failed: number }
  | {
    type: "done";
    bytes: number;
    total: number;
    files: number;
    seconds: number;
    sha256: string;
    path: string;
    /** Files sent as read while they kept changing (only with --allow-changing). */
    changed: string[];
    /** What did not arrive (the exit status is then 3): at most 1,000, `skippedMore` counts the rest. */
    skipped?: SkippedItem[];
    skippedMore?: number;
    /** Receiver: entries written beside an existing one of their name (`as`: where), at most 1,000. */
    renamed?: Array<{ path: string; as: string }>;
    /** Receiver: the absolute output folder the files went to. */
    folder?: string;
    /** Receiver: the top-level names written there (at most 100). */
    saved?: string[];
  }
  | { type: "stopped"; stats: Record<string, number> }
  | { type: "warning"; message: string }
  /** `declined`: this side's user declined the offer; people read "Declined.", not "error:". */
  | { type: "error"; message: string; declined?: true };

const PROGRESS_INTERVAL_MS = 100;
/** Shown to a receiver whose sender passed --allow-changing, before it accepts. */
export const ALLOW_CHANGING_NOTE =
  "  The sender passed --allow-changing: a file that changes while it is read arrives as read (never larger than offered), not as one snapshot";
const CHECK_LABELS: Record<Check["check"], string> = {
  addresses: "addresses",
  udp: "server over UDP",
  tcp: "server over TCP",
  nat: "NAT mapping",
  ipv6: "IPv6",
  local: "local discovery",
  path: "likely path",
};
/** Where Output writes: Deno.stdout and Deno.stderr, or a test's recorder. */
export interface OutputSink extends WriterSink {
  isTerminal(): boolean;
}

export interface OutputOptions {
  json: boolean;
  role: "send" | "receive" | "serve";
  stdout?: OutputSink;
  stderr?: OutputSink;
}

/**
 * Writes events as JSON lines or as friendly text, with a progress bar on a terminal. Nothing is
 * written synchronously (ordered_writer.ts says why): `flushed()` before the process exits.
 */
export class Output {
  readonly #json: boolean;
  readonly #bar: boolean;
  readonly #stdout: OutputSink;
  readonly #stderr: OutputSink;
  readonly #writer = new OrderedWriter();
  #lastProgressAt = 0;
  /** When this transfer's first progress came, and its bytes: the rate counts from there. */
  #startedAt = 0;
  #startBytes = 0;
  #barShown = false;
  #role: "send" | "receive" | "serve";

  constructor(options: OutputOptions) {
    this.#json = options.json;
    this.#role = options.role;
    this.#stdout = options.stdout ?? Deno.stdout;
    this.#stderr = options.stderr ?? Deno.stderr;
    this.#bar = !options.json && this.#stdout.isTerminal();
  }

  get json(): boolean {
    return this.#json;
  }

  /** Resolves once every event emitted so far is written (or its reader is gone). */
  flushed(): Promise<void> {
    return this.#writer.flushed();
  }

  emit(event: CliEvent): void {
    if (event.type === "progress") return this.#progress(event);
    // The next receiver's transfer (send --receivers) has a rate of its own.
    if (event.type === "done") this.#startedAt = this.#lastProgressAt = 0;
    if (this.#json) {
      this.#writeJson(event);
      // Errors also go to stderr as one line, for people reading a log.
      if (event.type === "error") this.#writer.write(this.#stderr, `${errorLine(event)}\n`);
      return;
    }
    this.#clearBar();
    const text = this.#describe(event);
    if (text === undefined) return;
    if (event.type === "error" || event.type === "warning") {
      this.#writer.write(this.#stderr, `${text}\n`);
    } else {
      this.#write(`${text}\n`);
    }
  }

  #describe(event: CliEvent): string | undefined {
    switch (event.type) {
      case "listening":
        return listeningLine(event);
      case "code":
        return `${event.qr ? `${event.qr}\n` : ""}Code is: ${event.code}\n` +
          `On the other computer run:\n  p2pft receive ${event.code}`;
      case "nat":
        return undefined;
      case "paired":
        return `Paired on nameplate ${event.nameplate} ${
          event.found === "local" ? "on the local network" : "through the rendezvous server"
        }; the peer is ${
          event.thisComputer ? `on this computer (${event.peer})` : `at ${event.peer}`
        }. Looking for a path...`;
      case "connected":
        return connectedLine(event);
      case "offer":
        return [
          `${this.#role === "send" ? "Sending" : "Receiving"} ${
            event.kind === "text"
              ? `a text (${formatBytes(event.bytes)})`
              : event.kind === "stream"
              ? "a stream of unknown size (it cannot be resumed if interrupted)"
              : describeOffer(event.files, event.directories, event.bytes)
          }${this.#role === "receive" && event.entries ? ":" : ""}`,
          ...(this.#role === "receive" && event.entries ? offerLines(event as OfferView) : []),
          ...(event.allowChanging ? [ALLOW_CHANGING_NOTE] : []),
        ].join("\n");
      case "manifest":
        return undefined;
      case "waiting":
        return event.for === "stdin"
          ? "Type the text, then press Enter and Ctrl-D:"
          : event.for === "accept"
          ? `Waiting for the receiver to accept (up to ${event.seconds} s)...`
          : `Waiting for the sender (up to ${event.seconds} s)...`;
      case "text":
        return escapeTextControls(event.text.endsWith("\n") ? event.text.slice(0, -1) : event.text);
      case "receiver":
        return event.ok
          ? `Receiver ${event.receiver} (${event.remote}) received it (${event.served} of ${event.of} served), sha256 ${event.sha256}`
          : `Receiver ${event.receiver} failed (${event.served} of ${event.of} served): ${event.message}`;
      case "check":
        return `${event.verdict.padEnd(7)} ${CHECK_LABELS[event.check]}: ${event.summary}`;
      case "summary":
        return `Served ${event.succeeded} of ${event.receivers} receivers${
          event.failed > 0 ? ` (${event.failed} failed)` : ""
        }; the code is closed`;
      case "done":
        return doneLine(event);
      case "stopped":
        return `Rendezvous server stopped (${
          Object.entries(event.stats).map(([key, value]) => `${key} ${value}`).join(", ")
        })`;
      // A peer's words (file names, its ERROR text) never drive the terminal.
      case "warning":
        return `warning: ${escapeControls(event.message)}`;
      case "error":
        return errorLine(event);
    }
  }

  #progress(event: Extract<CliEvent, { type: "progress" }>): void {
    const now = performance.now();
    if (this.#startedAt === 0) {
      this.#startedAt = now;
      this.#startBytes = event.bytes;
    }
    const final = !event.unknownSize && event.bytes >= event.total;
    if (!final && now - this.#lastProgressAt < PROGRESS_INTERVAL_MS) return;
    this.#lastProgressAt = now;
    if (this.#json) return this.#writeJson(event, { latest: true });
    if (!this.#bar) return;
    const seconds = (now - this.#startedAt) / 1000;
    // Bytes a resume found in place (and the first update's) did not move in this time: counted
    // in the bar, not in the rate.
    const rate = (event.bytes - this.#startBytes) / Math.max(seconds, 1e-3);
    if (event.unknownSize) {
      this.#write(`\r\x1b[2K${formatBytes(event.bytes)} ${formatRate(rate)} ${event.file}`, {
        latest: true,
      });
      this.#barShown = true;
      return;
    }
    const fraction = event.total === 0 ? 1 : event.bytes / event.total;
    const width = 24;
    const filled = Math.round(fraction * width);
    const bar = "#".repeat(filled) + ".".repeat(width - filled);
    const eta = formatDuration((event.total - event.bytes) / rate);
    const name = event.file.length > 30 ? `...${event.file.slice(-27)}` : event.file;
    this.#write(
      `\r\x1b[2K[${bar}] ${(fraction * 100).toFixed(0).padStart(3)}% ${formatBytes(event.bytes)}/${
        formatBytes(event.total)
      } ${formatRate(rate)} ETA ${eta} ${name}`,
      { latest: true },
    );
    this.#barShown = true;
  }

  #clearBar(): void {
    if (!this.#barShown) return;
    this.#barShown = false;
    this.#write("\n");
  }

  #writeJson(event: CliEvent, options?: { latest: boolean }): void {
    const t = Math.round(performance.now() * 10) / 10;
    this.#write(`${JSON.stringify({ ...event, t })}\n`, options);
  }

  /** `latest`: a progress line, which a newer one replaces while both wait for a slow reader. */
  #write(text: string, options?: { latest: boolean }): void {
    this.#writer.write(this.#stdout, text, options);
  }
}

/** Where `p2pft serve` listens, and what it runs. */
function listeningLine(event: Extract<CliEvent, { type: "listening" }>): string {
  return `Rendezvous server listening on ${
    event.host.includes(":") ? `[${event.host}]` : event.host
  }:${event.port} (${event.tcp ? "UDP and TCP" : "UDP"}; NAT check on UDP ${event.altPort}, ${
    event.relayPort
      ? `relay on ${event.tcp ? "UDP and TCP" : "UDP"} ${event.relayPort}`
      : "relay off"
  }${event.store && event.store !== "memory" ? `; rooms in ${event.store}` : ""}${
    event.metrics ? `; metrics at ${event.metrics}` : ""
  })`;
}

/** Which path and transport the session took, and why. */
function connectedLine(event: Extract<CliEvent, { type: "connected" }>): string {
  return `Connected ${
    event.path === "lan"
      ? "over the LAN"
      : event.path === "direct"
      ? "directly"
      : "through the relay"
  } to ${event.thisComputer ? `this computer (${event.remote})` : event.remote} over ${
    event.transport === "tcp" ? "TLS/TCP" : "QUIC"
  }${Number.isFinite(event.rttMs) ? ` (${event.rttMs.toFixed(0)} ms RTT)` : ""}: ${event.reason}`;
}

/** What arrived, how fast, its digest, and where it went. */
function doneLine(event: Extract<CliEvent, { type: "done" }>): string {
  // Only a text has bytes and no file; it moves in one message: a rate or a resumed part means
  // nothing, as for an offer of no bytes (empty files and folders).
  const text = event.files === 0 && event.total > 0;
  return `Done: ${text ? "a text" : `${event.files} ${event.files === 1 ? "file" : "files"}`}, ${
    formatBytes(event.total)
  } ` +
    (text || event.total === 0 ? "" : event.bytes === 0
      // Everything was there already (a rate of nothing read like a stall), unless some of it was
      // left out: then it is not there, and the lines after say what.
      ? event.skipped?.length
        ? "(nothing sent now) "
        : "(all of it already there, nothing sent now) "
      : `${
        // Only a resumed transfer sent less than all of it; else the total says it all.
        event.bytes < event.total ? `(${formatBytes(event.bytes)} sent now) ` : ""}in ${
        event.seconds.toFixed(1)
      } s, ${formatRate(event.bytes / Math.max(event.seconds, 1e-3))} `) +
    `via ${event.path}; sha256 ${event.sha256}` +
    (event.changed.length > 0
      ? ` (changing while sent, not a snapshot: ${event.changed.join(", ")})`
      : "") +
    savedLine(event);
}

/** Where the files went: "Saved in /home/me/in: project/, notes.txt". */
function savedLine(event: Extract<CliEvent, { type: "done" }>): string {
  if (event.folder === undefined || !event.saved || event.saved.length === 0) return "";
  const shown = event.saved.slice(0, 5).map(shownName);
  const more = event.saved.length - shown.length;
  return `\nSaved in ${shownName(event.folder)}: ${shown.join(", ")}${
    more > 0 ? ` and ${more} more` : ""
  }`;
}

/** The one line a failure prints: "error: <message>", or "Declined." for a decline by our user. */
function errorLine(event: Extract<CliEvent, { type: "error" }>): string {
  return event.declined ? "Declined." : `error: ${escapeControls(event.message)}`;
}
