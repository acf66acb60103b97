import { SourceChangedError, TimeoutError, UsageError } from "../errors.ts";
import {
  assertKnownWords,
  connectPeer,
  dataStreamsFor,
  formatCode,
  generateWords,
  parseCode,
  type RelayMode,
} from "../peer/mod.ts";
import { asUsageError, parseArgument } from "./exit_code.ts";
import { peerWasTold, scanPaths, sendFiles, type SkippedEntry } from "../transfer/mod.ts";
import type { Output } from "./output.ts";
import { connectedEvent, doneEvent, pairedEvent, reportWarnings } from "./session_events.ts";
import { rendezvousAddress } from "./rendezvous_address.ts";

export interface SendCommandOptions {
  code?: string;
  rendezvous?: string;
  relay: RelayMode;
  /** Also draw the code as a QR code. */
  qr: boolean;
  /** Send files that keep changing as read instead of failing (reported in `done`). */
  allowChanging: boolean;
  /** Seconds to wait for a receiver. */
  timeoutSeconds: number;
  output: Output;
  signal: AbortSignal;
}

const SKIPPED_KINDS: Record<SkippedEntry["kind"], string> = {
  symlink: "symbolic link",
  fifo: "named pipe (FIFO)",
  socket: "socket",
  device: "device file",
};

/** `p2pft send <paths...>` */
export async function sendCommand(paths: string[], options: SendCommandOptions): Promise<void> {
  if (paths.length === 0) throw new UsageError("Nothing to send: give at least one file or folder");
  const { output, signal } = options;
  const rendezvous = rendezvousAddress(options.rendezvous);
  const chosen = options.code === undefined
    ? undefined
    : parseArgument(() => parseCode(options.code!));
  // The receiver accepts only list words, so a code it would refuse is refused here.
  if (chosen) parseArgument(() => assertKnownWords(chosen));
  // Paths that cannot be sent at all (a device, the file system root) are the user's to fix.
  const manifest = await scanPaths(paths, { signal }).catch((error) => {
    throw asUsageError(error);
  });
  for (const skipped of manifest.skipped) {
    output.emit({
      type: "warning",
      message: `Skipping ${SKIPPED_KINDS[skipped.kind]} ${skipped.path}`,
    });
  }
  output.emit({
    type: "offer",
    files: manifest.files,
    directories: manifest.directories,
    bytes: manifest.bytes,
  });
  // The QR library takes a noticeable part of start-up: loaded only when asked for.
  const renderQr = options.qr ? (await import("./qr.ts")).renderQr : undefined;
  let code = "";
  const waited = AbortSignal.timeout(options.timeoutSeconds * 1000);
  const session = await connectPeer({
    role: "sender",
    rendezvous,
    relay: options.relay,
    onNat: (mapping) => output.emit({ type: "nat", mapping }),
    code: chosen ?? { words: generateWords() },
    onCode: (full) => {
      code = formatCode(full);
      output.emit({ type: "code", code, ...(renderQr ? { qr: renderQr(code) } : {}) });
    },
    onPaired: (paired) => output.emit(pairedEvent(paired)),
    signal: AbortSignal.any([signal, waited]),
  }).catch((error) => {
    if (waited.aborted && !signal.aborted) {
      throw new TimeoutError(
        code
          ? `No receiver connected with code ${code} within ${options.timeoutSeconds} s`
          : `The rendezvous server ${rendezvous.hostname}:${rendezvous.port} did not answer within ${options.timeoutSeconds} s (no code was issued)`,
      );
    }
    throw error;
  });
  await using _session = session;
  output.emit(connectedEvent(session));
  const report = await sendFiles(manifest, {
    connection: session,
    streams: dataStreamsFor(session),
    signal,
    allowChanging: options.allowChanging,
    onProgress: (progress) => output.emit({ type: "progress", ...progress }),
  }).catch(async (error) => {
    const failure = await session.fail(error, { peerWasTold: peerWasTold(error) });
    if (failure instanceof SourceChangedError) {
      throw new SourceChangedError(
        `${failure.message}; send it once it is stable, or pass --allow-changing to send it as read`,
        { cause: failure },
      );
    }
    throw failure;
  });
  for (const warning of reportWarnings(report)) output.emit(warning);
  output.emit(doneEvent(report, session));
}
