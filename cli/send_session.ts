/**
 * `p2pft send` once its offer is shown: waits for each receiver, authenticates it and sends it
 * the source. Loaded by send_command.ts after the scan.
 */
import { deadline, formatAddr, SourceChangedError, TimeoutError } from "../base/mod.ts";
import { formatCode, type TransferCode } from "../peer/code_mod.ts";
import {
  connectPeer,
  dataStreamsFor,
  type Offered,
  type PeerSession,
} from "../peer/connect_mod.ts";
import type { TransferReport } from "../transfer/send_mod.ts";
import { streamsToOpen } from "../transfer/first_streams_mod.ts";
import { ClientIdChain } from "../rendezvous/mod.ts";
import {
  assertComplete,
  connectedEvent,
  doneEvent,
  pairedEvent,
  reportWarnings,
  skippedItems,
} from "./session_events.ts";
import type { peerFinding } from "./rendezvous_address.ts";
import type { SendCommandOptions } from "./send_command.ts";
import { type SendSource, textBytes } from "./send_source.ts";

/** Serves `source` under `code` to one receiver, or to `--receivers N` one after another. */
export async function serveSource(
  source: SendSource,
  code: { nameplate?: string; words: string },
  options: SendCommandOptions & { finding: ReturnType<typeof peerFinding>; receivers: number },
): Promise<void> {
  if (options.receivers === 1) {
    const { report } = await serveReceiver(source, code, options);
    return assertComplete(report, "sender");
  }
  await serveReceivers(source, code, options);
}

/**
 * `--receivers N`: each receiver is its own pairing on the same nameplate.
 * Each registration commits to the next one's client id, which alone may
 * reopen the room once it has paired (rendezvous/PROTOCOL.md, "Several receivers").
 */
async function serveReceivers(
  source: SendSource,
  first: { nameplate?: string; words: string },
  options: ServeOptions & { receivers: number },
): Promise<void> {
  const { output, receivers } = options;
  let code = first;
  const ids = new ClientIdChain();
  let succeeded = 0;
  let failed = 0;
  let incomplete: TransferReport | undefined;
  while (succeeded < receivers) {
    const index = succeeded + failed + 1;
    let paired = false;
    try {
      const served = await serveReceiver(source, code, {
        ...options,
        clientId: ids.clientId,
        // The last turn names no successor: receivers that come after it hear there is no
        // sender, not that it is busy (rendezvous/PROTOCOL.md, "Several receivers").
        successor: succeeded + 1 < receivers ? ids.successor : undefined,
        again: index > 1,
        onCode: (full) => code = full,
        onPaired: () => paired = true,
      });
      succeeded++;
      if (skippedItems(served.report).length > 0) incomplete = served.report;
      output.emit({
        type: "receiver",
        receiver: index,
        of: receivers,
        served: succeeded,
        ok: true,
        remote: served.remote,
        sha256: served.report.sha256,
      });
    } catch (error) {
      // No receiver came (Ctrl-C or --timeout while waiting): no receiver failed, the code ends.
      if (!paired) {
        output.emit({ type: "summary", receivers, succeeded, failed });
        throw error;
      }
      failed++;
      output.emit({
        type: "receiver",
        receiver: index,
        of: receivers,
        served: succeeded,
        ok: false,
        message: error instanceof Error ? error.message : String(error),
      });
      // Only a transfer that failed after the PAKE leaves the code usable: a
      // wrong guess ends it, as do a cancel, a timeout and a server that refuses.
      if (!transferFailures.has(error as object)) {
        output.emit({ type: "summary", receivers, succeeded, failed });
        throw error;
      }
    } finally {
      ids.advance();
    }
  }
  output.emit({ type: "summary", receivers, succeeded, failed });
  if (incomplete) assertComplete(incomplete, "sender");
}

/**
 * transfer/'s sending half (~25 modules), loaded once: asked for when the rendezvous server has
 * answered the register (the sender then waits for its receiver and the link), so that nothing
 * before the register waits for it.
 */
let sendingHalf: Promise<typeof import("../transfer/send_mod.ts")> | undefined;
function loadSending(): Promise<typeof import("../transfer/send_mod.ts")> {
  return sendingHalf ??= import("../transfer/send_mod.ts");
}

/** Errors of a transfer itself, after the pairing and the PAKE succeeded. */
const transferFailures = new WeakSet<object>();

interface ServeOptions extends SendCommandOptions {
  finding: ReturnType<typeof peerFinding>;
  clientId?: Uint8Array;
  successor?: Uint8Array;
  /** A later receiver: the code was already shown. */
  again?: boolean;
  onCode?: (code: TransferCode) => void;
  /** Called once a receiver paired (this turn has a receiver, whatever happens next). */
  onPaired?: () => void;
}

/** Waits for one receiver, authenticates it and sends it `source`. */
async function serveReceiver(
  source: SendSource,
  wanted: { nameplate?: string; words: string },
  options: ServeOptions,
): Promise<{ report: TransferReport; remote: string }> {
  const { output, signal } = options;
  // The QR library takes a noticeable part of start-up: loaded only when asked for.
  const qr = options.qr ? await import("./qr.ts") : undefined;
  // Printed for a person: black on white whatever the terminal's theme; in JSON, plain text.
  const renderQr = qr &&
    ((code: string) => qr.renderQr(code, { color: !output.json && qr.colorAllowed() }));
  const session = await connectReceiver(
    wanted,
    offered(source),
    options,
    (code) => output.emit({ type: "code", code, ...(renderQr ? { qr: renderQr(code) } : {}) }),
  );
  await using _session = session;
  output.emit(connectedEvent(session));
  const { peerWasTold, sendFiles, sendText } = await loadSending();
  const transferOptions = {
    connection: session,
    signal,
    stallTimeoutMs: options.stallTimeoutSeconds * 1000,
    acceptTimeoutMs: options.timeoutSeconds * 1000,
    onWaitingForAccept: () =>
      output.emit({ type: "waiting", for: "accept", seconds: options.timeoutSeconds }),
  };
  const report =
    await (source.kind === "text"
      ? sendText(source.text, transferOptions)
      : sendFiles(source.manifest, {
        ...transferOptions,
        streams: dataStreamsFor(session),
        allowChanging: options.allowChanging,
        onProgress: (progress) => output.emit({ type: "progress", ...progress }),
      })).catch(async (error) => {
        let failure = await session.fail(error, { peerWasTold: peerWasTold(error) });
        if (failure instanceof SourceChangedError) {
          failure = new SourceChangedError(
            `${failure.message}; send it once it is stable, or pass --allow-changing to send it as read`,
            { cause: failure },
          );
        }
        if (typeof failure === "object" && failure !== null) transferFailures.add(failure);
        throw failure;
      });
  for (const warning of reportWarnings(report)) output.emit(warning);
  output.emit(doneEvent(report, session));
  return { report, remote: formatAddr(session.remote) };
}

/**
 * Pairs with a receiver and sets up the authenticated session, within `--timeout`. A receiver
 * that paired but whose link or PAKE was not done by then hears why in words, not "Signal timed
 * out.", and this side does not claim that no receiver came.
 */
async function connectReceiver(
  wanted: { nameplate?: string; words: string },
  offer: Offered | undefined,
  options: ServeOptions,
  showCode: (code: string) => void,
): Promise<PeerSession> {
  const { output, signal, finding } = options;
  const seconds = options.timeoutSeconds;
  let code = "";
  let paired = false;
  using waited = deadline({
    timeoutMs: seconds * 1000,
    // What the receiver reads after "The sender stopped: ".
    message: `its --timeout (${seconds} s) ran out before the connection was set up`,
  });
  return await connectPeer({
    role: "sender",
    ...finding,
    relay: options.relay,
    transport: options.transport,
    tcp: options.tcp,
    offer,
    onWarning: (message) => output.emit({ type: "warning", message }),
    onNat: (mapping) => {
      output.emit({ type: "nat", mapping });
      loadSending().catch(() => {});
    },
    code: wanted,
    clientId: options.clientId,
    successor: options.successor,
    onCode: (full) => {
      options.onCode?.(full);
      code = formatCode(full);
      if (!options.again) showCode(code);
    },
    onPaired: (info) => {
      paired = true;
      options.onPaired?.();
      output.emit(pairedEvent(info));
    },
    signal: AbortSignal.any([signal, waited.signal]),
  }).catch((error) => {
    if (!waited.signal.aborted || signal.aborted) throw error;
    const server = finding.rendezvous;
    if (paired) {
      throw new TimeoutError(
        `A receiver paired with code ${code}, but the connection to it was not set up within --timeout (${seconds} s)`,
      );
    }
    throw new TimeoutError(
      code || !server
        ? `No receiver connected with code ${code} within ${seconds} s`
        : `The rendezvous server ${
          server.map((r) => `${r.hostname}:${r.port}`).join(", ")
        } did not answer within ${seconds} s (no code was issued)`,
    );
  });
}

/** What the offer will weigh, when known before connecting (a stream's size is not). */
function offered(source: SendSource): Offered | undefined {
  if (source.kind === "stream") return undefined;
  const offer = source.kind === "text"
    ? { bytes: textBytes(source.text), text: true }
    : { bytes: source.manifest.bytes, text: false };
  // The first streams of a LAN TLS link: TCP's count of data streams.
  const firstStreams = streamsToOpen(offer, dataStreamsFor({ transport: "tcp", rttMs: 0 }));
  return { bytes: offer.bytes, firstStreams };
}
