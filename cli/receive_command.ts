import {
  DiskFullError,
  formatAddr,
  IntegrityError,
  NotEnoughSpaceError,
  osReason,
  P2pftError,
  peerStoppedMessage,
  resolve,
  SEP,
  TimeoutError,
  TransferRefusedError,
  UsageError,
} from "../base/mod.ts";
import { assertKnownWords, parseCode, type TransferCode } from "../peer/code_mod.ts";
import { connectPeer, type PeerSession } from "../peer/connect_mod.ts";
import type { RelayMode, TransportChoice } from "../peer/mod.ts";
import type { Offer, OnExisting } from "../transfer/mod.ts";
import { describeOffer, formatBytes, formatBytesAtLeast } from "./format.ts";
import {
  existingView,
  LISTED_ENTRIES,
  MANIFEST_CHUNK,
  offeredEntry,
  offerLines,
  offerView,
  shownName,
} from "./offer_view.ts";
import { parseArgument } from "./exit_code.ts";
import { ALLOW_CHANGING_NOTE, type Output } from "./output.ts";
import {
  assertComplete,
  connectedEvent,
  doneEvent,
  pairedEvent,
  reportWarnings,
} from "./session_events.ts";
import { peerFinding } from "./rendezvous_address.ts";

export interface ReceiveCommandOptions {
  out: string;
  yes: boolean;
  /** `--existing`: an offered name that exists in --out goes beside it (rename) or is left out. */
  existing?: OnExisting;
  /** Write the one file, or the text, to stdout; nothing touches the disk. */
  stdout?: boolean;
  rendezvous?: string;
  relay: RelayMode;
  /** Also look for the sender on the local network (off: `--no-local`). */
  local: boolean;
  /** Seconds to wait for a sender that has not registered yet (0: fail at once). */
  timeoutSeconds: number;
  /** Seconds without a byte moving before the transfer fails. */
  stallTimeoutSeconds: number;
  /** `--transport`: which link the session may use. */
  transport: TransportChoice;
  /** `--tcp`: register with the rendezvous server over TCP from the start. */
  tcp: boolean;
  output: Output;
  signal: AbortSignal;
}

let receiving: Promise<typeof import("../transfer/receive_mod.ts")> | undefined;

/**
 * transfer/'s receiving half, loaded once: asked for when the rendezvous server answered (after the
 * first event, while the receiver waits for its sender), and awaited where it is used.
 */
function loadReceiving(): Promise<typeof import("../transfer/receive_mod.ts")> {
  return receiving ??= import("../transfer/receive_mod.ts");
}

/** `p2pft receive <code>` */
export async function receiveCommand(
  codeText: string,
  options: ReceiveCommandOptions,
): Promise<void> {
  const { output, signal } = options;
  const code = parseArgument(() => parseCode(codeText));
  const finding = peerFinding(options.rendezvous, options);
  if (!options.yes && !Deno.stdin.isTerminal()) {
    throw new UsageError(
      "Cannot ask whether to accept the files: stdin is not a terminal; pass --yes",
    );
  }
  if (!options.stdout) await ensureWritableDirectory(options.out);
  // Last of the local checks: a code with a typo would use up its nameplate.
  parseArgument(() => assertKnownWords(code));
  await using session = await connectSender(code, { ...options, finding });
  const remote = formatAddr(session.remote);
  output.emit(connectedEvent(session));
  // A sender that gives up while our user decides ends the session: stop asking then.
  const asking = new AbortController();
  session.closed.then((end) =>
    asking.abort(
      new P2pftError(
        end?.failed
          ? peerStoppedMessage("sender", end.message)
          : "The connection to the sender ended",
      ),
    )
  );
  const { receiveFiles } = await loadReceiving();
  // Bytes of a file that can resume arrived: a failure then keeps them (NAME.p2pft-partial).
  let kept = false;
  // The offered top-level names: where, in --out, partials of this transfer can be.
  const names = new Set<string>();
  const report = await receiveFiles({
    connection: session,
    outDir: options.out,
    ...(options.stdout ? { sink: stdoutSink() } : {}),
    signal,
    stallTimeoutMs: options.stallTimeoutSeconds * 1000,
    onExisting: options.existing,
    confirm: (offer, tellAsking) => {
      for (const entry of offer.entries) names.add(entry.path.split("/")[0]);
      return confirm(offer, remote, options, {
        signal: AbortSignal.any([signal, asking.signal]),
        asking: tellAsking,
      });
    },
    onProgress: (progress) => {
      kept ||= !progress.unknownSize && progress.bytes > (progress.already ?? 0);
      output.emit({ type: "progress", ...progress });
    },
  }).catch((error) => failed(error, session, { ...options, kept: kept && !options.stdout, names }));
  if (report.text !== undefined) await showText(report.text, options);
  for (const warning of reportWarnings(report)) output.emit(warning);
  output.emit({
    ...doneEvent(report, session),
    ...(options.stdout || report.text !== undefined
      ? {}
      : { folder: resolve(options.out), saved: report.saved ?? [] }),
  });
  assertComplete(report, "receiver");
}

/** Finds the sender and opens the session (the code's PAKE included). */
async function connectSender(
  code: TransferCode,
  options: ReceiveCommandOptions & { finding: ReturnType<typeof peerFinding> },
): Promise<PeerSession> {
  const { output, finding } = options;
  let found = false;
  return await connectPeer({
    role: "receiver",
    ...finding,
    code,
    relay: options.relay,
    transport: options.transport,
    tcp: options.tcp,
    onWarning: (message) => output.emit({ type: "warning", message }),
    onNat: (mapping) => {
      output.emit({ type: "nat", mapping });
      loadReceiving().catch(() => {});
    },
    onPaired: (paired) => {
      found = true;
      output.emit(pairedEvent(paired));
    },
    waitForSenderMs: options.timeoutSeconds * 1000,
    onWaitingForSender: () => {
      output.emit({ type: "waiting", for: "sender", seconds: options.timeoutSeconds });
    },
    signal: options.signal,
  }).catch((error) => {
    if (finding.rendezvous || found || !(error instanceof TimeoutError)) throw error;
    throw new TimeoutError(
      `${error.message}; without a rendezvous server only this network is searched ` +
        `(pass --rendezvous HOST:PORT or set P2PFT_RENDEZVOUS for a sender elsewhere)`,
      { cause: error },
    );
  });
}

/** How a receiver whose partial files were kept goes on: a code works once. */
const HOW_TO_RESUME =
  "the sender runs send again and you run receive with its new code and the same --out";

/** A failed receive: the sender is told why (not where our files live); the error to show. */
async function failed(
  error: unknown,
  session: PeerSession,
  options: ReceiveCommandOptions & { kept: boolean; names: ReadonlySet<string> },
): Promise<never> {
  const { peerWasTold, hasKeptPartials } = await loadReceiving();
  const told = withoutFolder(error, resolve(options.out));
  const answer = await session.fail(told, { peerWasTold: peerWasTold(error) });
  const failure = answer === told ? error : answer;
  // Ctrl-C, a lost connection, a stall: say how to go on (a full disk says so itself).
  if (options.kept && !(failure instanceof DiskFullError || failure instanceof IntegrityError)) {
    // Looked at now: the folder, or the partial, may have been deleted while it ran.
    const out = resolve(options.out);
    options.output.emit({
      type: "warning",
      message: hasKeptPartials(out, options.names)
        ? `What arrived is kept in ${out} (NAME.p2pft-partial): to go on from there, ${HOW_TO_RESUME}`
        : `Nothing that arrived is kept: no NAME.p2pft-partial is left in ${out}`,
    });
  }
  if (failure instanceof DiskFullError) {
    const { partial, missingBytes } = failure.details;
    throw new DiskFullError(
      `Disk full: ${partial} kept: free ${formatBytesAtLeast(missingBytes)}, then ${HOW_TO_RESUME}`,
      failure.details,
      { cause: failure },
    );
  }
  if (failure instanceof NotEnoughSpaceError) {
    throw new NotEnoughSpaceError(
      `${failure.message}; free some space or choose another folder with --out`,
      failure.details,
      { cause: failure },
    );
  }
  throw failure;
}

/**
 * Stdout for `--stdout`: a reader that stops (`| head`) is said in words, here and to the
 * sender, not as "Broken pipe (os error 32)".
 */
function stdoutSink(): WritableStream<Uint8Array> {
  // Taken at the first write: a text never comes this way, and showText writes it.
  let taken: WritableStreamDefaultWriter<Uint8Array> | undefined;
  const writer = () => taken ??= Deno.stdout.writable.getWriter();
  return new WritableStream({
    write: (chunk) =>
      writer().write(chunk).catch((error) => {
        if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
        throw new P2pftError(
          "Stdout was closed by the program reading it (broken pipe); the rest was not received",
          { cause: error },
        );
      }),
    close: () => writer().close(),
    abort: (reason) => writer().abort(reason),
  });
}

/** A received text: as is on stdout with --stdout, else as an event (a line, or JSON). */
async function showText(text: string, options: ReceiveCommandOptions): Promise<void> {
  if (!options.stdout) return options.output.emit({ type: "text", text });
  const writer = Deno.stdout.writable.getWriter();
  try {
    await writer.write(new TextEncoder().encode(text));
  } finally {
    writer.releaseLock();
  }
}

/** `error` with `folder` taken out of its message (paths become relative to it). */
function withoutFolder(error: unknown, folder: string): unknown {
  if (!(error instanceof Error) || !error.message.includes(folder)) return error;
  const message = error.message.replaceAll(`${folder}${SEP}`, "").replaceAll(
    folder,
    "the output folder",
  );
  return new P2pftError(message, { cause: error });
}

async function confirm(
  offer: Offer,
  remote: string,
  options: ReceiveCommandOptions,
  { signal, asking }: { signal: AbortSignal; asking: () => void },
): Promise<boolean> {
  const kind = offer.text !== undefined ? "text" : offer.unknownSize ? "stream" : undefined;
  const view = kind === undefined
    ? offerView(offer.entries, offer.notSent, {
      clashes: offer.existing ?? [],
      onExisting: offer.onExisting ?? "rename",
      unholdable: offer.unholdable ?? [],
      resumes: offer.resumes ?? [],
    })
    : undefined;
  // A stream's names already here (its prompt says where it goes instead), in the same shape.
  const streamExisting = kind === "stream"
    ? existingView(offer.existing ?? [], offer.onExisting ?? "rename")
    : undefined;
  // A person who is asked reads the offer in the question itself.
  if (options.yes || options.output.json) {
    options.output.emit({
      type: "offer",
      files: offer.files,
      directories: offer.directories,
      bytes: offer.bytes,
      ...(kind ? { kind } : {}),
      ...(offer.allowChanging ? { allowChanging: true } : {}),
      ...view,
      ...streamExisting,
    });
    if (options.output.json) emitManifest(offer, options.output);
  }
  if (options.yes) return true;
  const what = kind === "text"
    ? `a text (${formatBytes(offer.bytes)})`
    : kind === "stream"
    ? `${shownName(offer.entries[0].path)}, a stream of unknown size${
      options.stdout ? "" : savedAs(offer)
    }`
    : describeOffer(offer.files, offer.directories, offer.bytes);
  const lines = [
    ...view ? offerLines(view) : [],
    ...offer.allowChanging ? [ALLOW_CHANGING_NOTE] : [],
  ]
    .map((line) => `${line}\n`).join("");
  const question = `${lines}Receive ${what} from ${remote}? [y/N] `;
  // The lines before it (connected, warnings) reach the terminal first.
  await options.output.flushed();
  // The sender says it waits for a person only now, when one is asked.
  asking();
  // A typo ("ye", "yse") would decline and spend the code: only an empty line or n declines.
  for (let asked = question;; asked = `Please answer y (receive) or n (decline): `) {
    const answer = (await ask(asked, signal)).trim();
    if (/^y(es)?$/i.test(answer)) return true;
    if (/^(no?)?$/i.test(answer)) return false;
  }
}

/** Where a stream goes in --out, said in the question: its name may be taken already. */
function savedAs(offer: Offer): string {
  const name = shownName(offer.entries[0].path);
  const clash = offer.existing?.[0];
  const unholdable = offer.unholdable?.[0];
  if (unholdable) return ` (not written here: ${unholdable.reason})`;
  if (clash === undefined) return `, saved as ${name}`;
  if (clash.as === undefined) return ` (${name} is already here and is kept: nothing is written)`;
  return `, saved as ${shownName(clash.as)} (${name} is already here)`;
}

/** The entries past the `offer` event's list, MANIFEST_CHUNK per line. */
function emitManifest(offer: Offer, output: Output): void {
  for (let from = LISTED_ENTRIES; from < offer.entries.length; from += MANIFEST_CHUNK) {
    const entries = offer.entries.slice(from, from + MANIFEST_CHUNK).map(offeredEntry);
    output.emit({ type: "manifest", from, entries });
  }
}

async function ask(question: string, signal: AbortSignal): Promise<string> {
  await Deno.stderr.write(new TextEncoder().encode(question));
  const reader = Deno.stdin.readable.getReader();
  const onAbort = () => reader.cancel().catch(() => {});
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    const { value } = await reader.read();
    // Ctrl-D, or a sender that stopped meanwhile: no Enter ended the question's line, so the
    // next line ("Declined.", the error) would run on after "[y/N] ".
    if (value === undefined) await Deno.stderr.write(new TextEncoder().encode("\n"));
    signal.throwIfAborted();
    return value ? new TextDecoder().decode(value) : "";
  } finally {
    signal.removeEventListener("abort", onAbort);
    reader.releaseLock();
  }
}

async function ensureWritableDirectory(path: string): Promise<void> {
  if (path === "") throw new UsageError('--out is empty (an unset variable in --out "$VAR"?)');
  await ensureDirectory(path);
  try {
    await Deno.remove(await Deno.makeTempFile({ dir: path, prefix: ".p2pft-write-check-" }));
  } catch (error) {
    // A folder that exists but whose file system makes no files (/proc, /sys) says "No such file
    // or directory", which names nothing missing (unless the folder went away meanwhile).
    if (error instanceof Deno.errors.NotFound) await ensureDirectory(path);
    const reason = error instanceof Deno.errors.NotFound
      ? "its file system takes no new files, like /proc's; choose another --out"
      : osReason(error);
    throw new TransferRefusedError(`Cannot receive into ${path}: it is not writable (${reason})`, {
      cause: error,
    });
  }
}

async function ensureDirectory(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new UsageError(`Output folder ${path} does not exist`);
    }
    throw error;
  }
  if (!info.isDirectory) throw new UsageError(`Output path ${path} is not a folder`);
}
