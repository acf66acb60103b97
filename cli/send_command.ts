/**
 * `p2pft send`: checks its arguments, scans what it sends and shows the offer; then
 * send_session.ts, loaded only then, serves it to the receiver(s).
 */
import { UsageError } from "../base/mod.ts";
import { assertKnownWords, generateWords, parseCode } from "../peer/code_mod.ts";
import type { RelayMode, TransportChoice } from "../peer/mod.ts";
import type { SkippedEntry } from "../transfer/mod.ts";
import { parseArgument } from "./exit_code.ts";
import type { CliEvent, Output } from "./output.ts";
import { offerView, shownName, SKIP_WORDS } from "./offer_view.ts";
import { peerFinding } from "./rendezvous_address.ts";
import { type SendSource, sendSource, textBytes } from "./send_source.ts";

export interface SendCommandOptions {
  code?: string;
  rendezvous?: string;
  relay: RelayMode;
  /** `--transport`: which link the session may use. */
  transport: TransportChoice;
  /** `--tcp`: register with the rendezvous server over TCP from the start. */
  tcp: boolean;
  /** Also look for the receiver on the local network (off: `--no-local`). */
  local: boolean;
  /** Also draw the code as a QR code. */
  qr: boolean;
  /** Send files that keep changing as read instead of failing (reported in `done`). */
  allowChanging: boolean;
  /** Seconds to wait for a receiver, and again for it to accept the offer (for each receiver). */
  timeoutSeconds: number;
  /** Seconds without a byte moving before the transfer fails. */
  stallTimeoutSeconds: number;
  /** `--text`: send this text (or stdin's, for "-") instead of files. */
  text?: string;
  /** `--name`: the name of the stream sent with `-`. */
  name?: string;
  /** `--receivers`: how many receivers the code serves, one after another (default 1). */
  receivers?: number;
  output: Output;
  signal: AbortSignal;
}

/** `p2pft send <paths...>`, `send --text TEXT`, `send -` */
export async function sendCommand(paths: string[], options: SendCommandOptions): Promise<void> {
  const { output, signal } = options;
  const receivers = options.receivers ?? 1;
  const finding = peerFinding(options.rendezvous, options);
  const given = options.code;
  const chosen = given === undefined ? undefined : parseArgument(() => parseCode(given));
  // The receiver accepts only list words, so a code it would refuse is refused here.
  if (chosen) parseArgument(() => assertKnownWords(chosen));
  if (Deno.stdin.isTerminal()) {
    // Nothing is piped in: "-" would send what is typed until Ctrl-D, as a file.
    if (paths.includes("-")) {
      throw new UsageError(
        '"-" sends what is piped into p2pft (tar c dir | p2pft send -), but stdin is this terminal; to type a text, use --text -',
      );
    }
    // Else the cursor would wait with no word of why.
    if (options.text === "-") output.emit({ type: "waiting", for: "stdin" });
  }
  const source = await sendSource(paths, {
    text: options.text,
    name: options.name,
    receivers,
    stdin: () => Deno.stdin.readable,
    signal,
  });
  if (source.kind !== "text") {
    for (const skipped of source.manifest.skipped) output.emit(skippingWarning(skipped));
  }
  output.emit(offerEvent(source));
  // What finds, links and authenticates the receiver loads once the offer is shown: about two
  // thirds of send's modules, which the offer does not wait for.
  const { serveSource } = await import("./send_session.ts");
  const code = chosen ?? { words: generateWords() };
  await serveSource(source, code, { ...options, finding, receivers });
}

/** The `offer` event: what is sent, as scanned. */
function offerEvent(source: SendSource): CliEvent {
  if (source.kind === "text") {
    return { type: "offer", files: 0, directories: 0, bytes: textBytes(source.text), kind: "text" };
  }
  return {
    type: "offer",
    files: source.manifest.files,
    directories: source.manifest.directories,
    bytes: source.manifest.bytes,
    ...(source.kind === "stream"
      ? { kind: "stream" as const }
      : offerView(source.manifest.entries, source.manifest.skipped)),
  };
}

/** The sender's line, at the scan, for an entry it will not send. */
function skippingWarning(skipped: SkippedEntry): CliEvent {
  const what = skipped.kind === "unreadable" || skipped.kind === "name"
    ? `${shownName(skipped.path)}: ${skipped.detail ?? SKIP_WORDS[skipped.kind]}`
    : `${SKIP_WORDS[skipped.kind]} ${shownName(skipped.path)}${
      skipped.detail ? `: ${skipped.detail}` : ""
    }`;
  return { type: "warning", message: `Skipping ${what}` };
}
