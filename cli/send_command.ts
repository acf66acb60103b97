import { TimeoutError, UsageError } from "../errors.ts";
import { connectPeer, formatCode, generateWords, parseCode, type RelayMode } from "../peer/mod.ts";
import { renderQr } from "./qr.ts";
import { asUsageError, parseArgument } from "./exit_code.ts";
import { peerWasTold, scanPaths, sendFiles } from "../transfer/mod.ts";
import type { Output } from "./output.ts";
import { connectedEvent, doneEvent, pairedEvent } from "./session_events.ts";
import { rendezvousAddress } from "./rendezvous_address.ts";

export interface SendCommandOptions {
  code?: string;
  rendezvous?: string;
  relay: RelayMode;
  /** Also draw the code as a QR code. */
  qr: boolean;
  /** Seconds to wait for a receiver. */
  timeoutSeconds: number;
  output: Output;
  signal: AbortSignal;
}

/** `p2pft send <paths...>` */
export async function sendCommand(paths: string[], options: SendCommandOptions): Promise<void> {
  if (paths.length === 0) throw new UsageError("Nothing to send: give at least one file or folder");
  const { output, signal } = options;
  const rendezvous = rendezvousAddress(options.rendezvous);
  const chosen = options.code === undefined
    ? undefined
    : parseArgument(() => parseCode(options.code!));
  // Paths that cannot be sent at all (a device, the file system root) are the user's to fix.
  const scan = await scanPaths(paths, { signal }).catch((error) => {
    throw asUsageError(error);
  });
  for (const link of scan.skippedSymlinks) {
    output.emit({ type: "warning", message: `Skipping symbolic link ${link}` });
  }
  output.emit({
    type: "offer",
    files: scan.files,
    directories: scan.directories,
    bytes: scan.bytes,
  });
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
      output.emit({ type: "code", code, ...(options.qr ? { qr: renderQr(code) } : {}) });
    },
    onPaired: (paired) => output.emit(pairedEvent(paired)),
    signal: AbortSignal.any([signal, waited]),
  }).catch((error) => {
    if (waited.aborted && !signal.aborted) {
      throw new TimeoutError(
        `No receiver connected with code ${
          code || "(none issued)"
        } within ${options.timeoutSeconds} s`,
      );
    }
    throw error;
  });
  await using _session = session;
  output.emit(connectedEvent(session));
  const report = await sendFiles(paths, {
    connection: session,
    signal,
    onProgress: (progress) => output.emit({ type: "progress", ...progress }),
  }).catch(async (error) => {
    throw await session.fail(error, { peerWasTold: peerWasTold(error) });
  });
  output.emit(doneEvent(report, session));
}
