/**
 * A peer that keeps the link alive (QUIC keep-alives keep flowing) but goes
 * silent in one phase, to prove the real CLI on the other side gives up
 * within that phase's deadline (transfer/PROTOCOL.md, "Deadlines"). It pairs
 * like a real peer, then speaks the PAKE and transfer protocols by hand from
 * their PROTOCOL.md files, up to the phase named on the command line.
 *
 *   deno run -A tests/security/staller.ts --rendezvous HOST:PORT ROLE PHASE [CODE]
 *
 * ROLE `send` (against `p2pft receive`): PHASE `pake` (opens nothing, never
 * answers the PAKE), `offer` (HELLO only), `decision` (the whole offer, then
 * no DECISIONS), `data` (64 KiB of a 2 MiB file, then nothing).
 * ROLE `receive` (against `p2pft send`, give the CODE): `pake`, `decision`
 * (reads the offer, never answers), `data` (answers, reads 1 MiB, stops
 * reading), `confirmation` (reads everything, never confirms).
 *
 * stdout, one JSON object a line: `code` (role send), `linked`, `silent`
 * (it stopped talking), then `peer-end` with the reason the other side gave
 * when it ended the session. Exit 0 once that happened.
 */
import {
  type ByteStream,
  connectPeer,
  formatCode,
  generateWords,
  type LinkEnd,
  openPeerLink,
  parseCode,
} from "../../peer/mod.ts";
import {
  ASKING,
  DATA,
  DATA_HELLO,
  ENTRIES,
  entry,
  frame,
  FrameReader,
  HELLO,
  hello,
  MANIFEST_END,
  manifestEnd,
  PLAN_END,
  START,
  start,
  u32,
  VERSION,
} from "./malicious_sender.ts";
import { concatBytes } from "../../base/mod.ts";

/** The file the sending staller offers: two full DATA segments (transfer/PROTOCOL.md). */
const SEGMENT_SIZE = 1024 * 1024;
const OFFERED_BYTES = 2 * SEGMENT_SIZE;
/** What it sends of that file before going silent in the data phase. */
const SENT_BEFORE_SILENCE = 64 * 1024;

/** What both a bare link (PAKE phase) and an authenticated session offer. */
interface Peer extends AsyncDisposable {
  openStream(): Promise<ByteStream>;
  acceptStream(): Promise<ByteStream>;
  readonly closed: Promise<LinkEnd | undefined>;
}

function emit(event: Record<string, unknown>): void {
  console.log(JSON.stringify(event));
}

/** Offers one 2 MiB file; in `data` also starts it; returns when it falls silent. */
async function stallAsSender(session: Peer, phase: string) {
  const control = await session.openStream();
  const writer = control.writable.getWriter();
  const reader = new FrameReader(control.readable);
  await writer.write(frame(HELLO, hello(1, 0, OFFERED_BYTES)));
  if (phase === "offer") return;
  await writer.write(frame(ENTRIES, entry("file", "stalled.bin", OFFERED_BYTES)));
  await writer.write(frame(MANIFEST_END, manifestEnd(1)));
  while ((await reader.next())?.type !== PLAN_END);
  if (phase === "decision") return;
  await writer.write(frame(START, start(1, 0, OFFERED_BYTES + 33)));
  const data = await session.openStream();
  const dataWriter = data.writable.getWriter();
  await dataWriter.write(frame(DATA_HELLO, Uint8Array.of(VERSION, 0, 1)));
  // The first segment's header announces a full segment; only its start follows.
  const header = frame(DATA, new Uint8Array(0), SEGMENT_SIZE);
  await dataWriter.write(concatBytes([header, new Uint8Array(SENT_BEFORE_SILENCE).fill(0x73)]));
}

/** Answers the sender's offer as far as `phase`, then stops reading and writing. */
async function stallAsReceiver(session: Peer, phase: string) {
  const control = await session.acceptStream();
  const writer = control.writable.getWriter();
  const reader = new FrameReader(control.readable);
  while ((await reader.next())?.type !== MANIFEST_END);
  // As a receiver whose person is asked and never answers (the sender speaks version 5).
  if (phase === "decision") {
    await writer.write(frame(ASKING, new Uint8Array(0)));
    return;
  }
  // Nothing on disk: an empty plan.
  // PLAN_END: no items, no flags.
  await writer.write(frame(PLAN_END, concatBytes([u32(0), Uint8Array.of(0)])));
  const startFrame = await reader.next();
  if (startFrame?.type !== START) throw new Error("expected START");
  const streams = startFrame.payload[0];
  const readers = [];
  for (let index = 0; index < streams; index++) {
    readers.push((await session.acceptStream()).readable.getReader());
  }
  if (phase === "data") {
    // Reads about 1 MiB, then leaves the rest unread: flow control stops the sender.
    let got = 0;
    while (got < OFFERED_BYTES) got += (await readers[0].read()).value?.length ?? OFFERED_BYTES;
    return;
  }
  await Promise.all(readers.map(async (one) => {
    while (!(await one.read()).done);
  }));
}

async function main(args: string[]): Promise<number> {
  const at = args.indexOf("--rendezvous");
  const [hostname, port] = (args[at + 1] ?? "").split(":");
  const [role, phase, codeText] = args.filter((_, index) => index !== at && index !== at + 1);
  const phases = role === "send"
    ? ["pake", "offer", "decision", "data"]
    : ["pake", "decision", "data", "confirmation"];
  if (at < 0 || !hostname || !phases.includes(phase) || (role === "receive" && !codeText)) {
    console.error(
      "error: usage: staller.ts --rendezvous HOST:PORT send pake|offer|decision|data\n" +
        "       staller.ts --rendezvous HOST:PORT receive pake|decision|data|confirmation CODE",
    );
    return 2;
  }
  const signal = AbortSignal.timeout(60_000);
  const options = {
    role: role === "send" ? "sender" as const : "receiver" as const,
    rendezvous: { hostname, port: Number(port) },
    // Host tests stay off the host's own networks (no multicast).
    local: false,
    code: role === "send" ? { words: generateWords() } : parseCode(codeText),
    onCode: (code: { nameplate: string; words: string }) =>
      emit({ type: "code", code: formatCode(code) }),
    relay: "never" as const,
    signal,
  };
  try {
    // In the PAKE phase the link is up and the PAKE never starts on this side.
    await using peer: Peer = phase === "pake"
      ? (await openPeerLink(options)).link
      : await connectPeer(options);
    emit({ type: "linked" });
    if (phase === "pake") {
      // The receiver opens the PAKE stream (and then writes nothing); the sender waits for it.
      if (role === "receive") await peer.openStream();
    } else if (role === "send") await stallAsSender(peer, phase);
    else await stallAsReceiver(peer, phase);
    emit({ type: "silent" });
    const end = await peer.closed;
    emit({ type: "peer-end", failed: end?.failed ?? null, message: end?.message ?? null });
    return 0;
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
