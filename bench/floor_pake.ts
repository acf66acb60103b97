/**
 * The floor for a code-protected small transfer (`deno-floor-pake` in floor.tool): floor.ts's
 * `deno-floor` plus what any tool with a short code must do, done with p2pft's own modules in
 * their least use, so that its cost is Deno's plus p2pft's crypto and nothing else.
 *
 * Includes, beyond deno-floor: the sender makes its certificate and key in the process
 * (`createPeerCertificate`, as p2pft's sender does; the receiver, as in p2pft, makes none) and
 * attaches its DER to its registration; the receiver pins it (`Deno.startTls` with
 * `peer.p2pft.invalid` and TCP_NODELAY on its socket, as p2pft's TLS client) and both run p2pft's
 * SPAKE2 and key confirmation (`runPakeHandshake`, bound to the certificate's fingerprint) on the
 * TLS connection before the file moves. Each side computes its SPAKE2 share while it waits on the
 * network (the sender for its receiver, the receiver for its TCP connection), as p2pft's
 * `EarlyShare` does. The modules come with what they import: noble (npm), base/mod.ts, and with
 * it node:path (base/free_space.ts, which loads node:fs only when first asked), a part of Deno's
 * Node layer (~15 ms of main-thread CPU alone); the whole layer is deno-floor-node's row.
 * Excludes: events, the offer, hashes, resume, NAT probing, local discovery, more than one TLS
 * connection, warm-ups (`warmTlsClient`; `warmCrypto` only in the `-warm` modes, floor.tool's
 * `deno-floor-pake-warm`: what p2pft's own start does to take the crypto library's seeding off
 * the main thread).
 *
 *   deno run -A bench/floor_pake.ts send[-warm] FILE CODE PORT
 *   deno run -A bench/floor_pake.ts receive[-warm] OUT CODE PORT
 *   deno run -A bench/floor_pake.ts costs
 *
 * (`floor.ts serve PORT` is the rendezvous; CODE is NAMEPLATE-WORDS, e.g. 7-bench-code.) `costs`
 * prints each crypto step's main-thread CPU in one fresh process, cold then warm. With FLOOR_MARKS
 * set, `send` and `receive` (here and in floor.ts) print to stderr, at each step, the ms since the
 * process started and the main thread's CPU ms (/proc/self/task/PID/schedstat), and at the end
 * the CPU of all its live threads; bench/floor_marks.ts runs the floors and prints the medians.
 *
 * Where its time goes beyond deno-floor, per side, in main-thread CPU ms (floor_marks.ts medians
 * of 5-6 runs at load 4-6, and `costs`):
 * - Imports, before the first line runs: 107-128 against 73-78. One at a time in a fresh process:
 *   base/mod.ts 21-32 (node:path alone 16-25, for base/free_space.ts's `dirname`), peer/cert/
 *   10-17, pake/ 16 (noble's P-256 from npm; a local copy of noble loads in ~10 against ~16).
 *   Wall to the first line: 60-170 ms against 10-15 at these loads.
 * - Certificate (sender): 6-10 cold, 1.5-2.5 warm (a P-256 key imported, one ECDSA signature).
 * - SPAKE2: start + finish 6-11 on the first side a process runs, 1.5-4 warm. Its two frame
 *   exchanges after TLS: 11-15 CPU and 19-36 ms of wall on the receiver.
 * - The first TLS call on each side (deno-floor pays it too): ~35, mostly the seeding of Deno's
 *   crypto library. `-warm` (warmCrypto) moves it to another thread: the receiver's TLS step
 *   47-58 → 13-18, the sender's PAKE step 46-57 → 15-17; the same CPU in all.
 * - All threads at exit: 200-235 against 117-135 for deno-floor; anchors.sh (/usr/bin/time):
 *   0.22-0.25 s a side against 0.13-0.16.
 *
 * In two `anchors.sh 1K 5` runs at load 4 (18:44 UTC, 2026-12-07), against wormhole-william:
 * deno-floor 0.93x and 1.05x, deno-floor-pake 1.06x and 1.16x, deno-floor-node 1.07x and 1.15x,
 * at 0.22-0.25 CPU s a side for deno-floor-pake against wormhole-william's 0.07-0.11. At load
 * 5.5-8 the wall ratios scatter (pake 1.10-1.77x, -warm 0.94-1.02x); the CPU does not.
 */
import {
  certificateFingerprint,
  certificatePem,
  createPeerCertificate,
  PEER_SERVER_NAME,
} from "../peer/cert/mod.ts";
import { runPakeHandshake, type Spake2, startSpake } from "../pake/mod.ts";
import { warmCrypto } from "../base/mod.ts";
import { LOOPBACK, mark, register, threadCpuMs, withMarks } from "./floor.ts";

/** `7-bench-code`: the nameplate and the words, as p2pft's `parseCode` splits them. */
function splitCode(code: string): { nameplate: string; words: string } {
  const at = code.indexOf("-");
  return { nameplate: code.slice(0, at), words: code.slice(at + 1) };
}

/**
 * This side's SPAKE2 start on a timer, as p2pft's `EarlyShare`: it runs while this side waits on
 * the network (the sender for its receiver, the receiver for its TCP connection), not before.
 */
function startLater(options: Parameters<typeof startSpake>[0]): Promise<Spake2> {
  return new Promise((resolve) => setTimeout(() => resolve(startSpake(options)), 0));
}

async function send(file: string, code: string, server: number): Promise<void> {
  const { nameplate, words } = splitCode(code);
  const [data, certificate] = await Promise.all([Deno.readFile(file), createPeerCertificate()]);
  mark("certificate");
  const channelBinding = certificate.fingerprint;
  using listener = Deno.listenTls({
    hostname: LOOPBACK,
    port: 0,
    cert: certificate.certPem,
    key: certificate.keyPem,
  });
  const accepted = listener.accept();
  const paired = register(code, "send", listener.addr.port, server, certificate.der);
  const started = startLater({ role: "sender", code: words, nameplate, channelBinding });
  await paired;
  mark("paired");
  using conn = await accepted;
  mark("accepted");
  const { readable } = await runPakeHandshake(conn, {
    role: "sender",
    code: words,
    nameplate,
    channelBinding,
    started,
  });
  mark("pake");
  await conn.write(data);
  await conn.closeWrite();
  // The receiver closes once it has everything: then both know the result.
  await readable.getReader().read().catch(() => {});
}

async function receive(out: string, code: string, server: number): Promise<void> {
  const { nameplate, words } = splitCode(code);
  const { port, attached: der } = await register(code, "receive", 0, server);
  mark("paired");
  const channelBinding = certificateFingerprint(der);
  const connected = Deno.connect({ hostname: LOOPBACK, port });
  const started = startLater({ role: "receiver", code: words, nameplate, channelBinding });
  const tcp = await connected;
  tcp.setNoDelay(true);
  using conn = await Deno.startTls(tcp, {
    hostname: PEER_SERVER_NAME,
    caCerts: [certificatePem(der)],
  });
  await conn.handshake();
  mark("tls");
  const { readable } = await runPakeHandshake(conn, {
    role: "receiver",
    code: words,
    nameplate,
    channelBinding,
    started,
  });
  mark("pake");
  using file = await Deno.open(out, { write: true, create: true, truncate: true });
  for await (const chunk of readable) {
    for (let at = 0; at < chunk.length;) at += await file.write(chunk.subarray(at));
  }
}

/**
 * Each piece's main-thread CPU in one fresh process, in the order a sender meets them: the
 * imports, the certificate (cold, then again), then one SPAKE2 exchange between two in-memory
 * sides (cold: the first side's start and finish; warm: the second's, then a whole second run).
 */
async function costs(): Promise<void> {
  const rows: [string, number][] = [];
  const timed = async <T>(what: string, step: () => Promise<T>): Promise<T> => {
    const before = threadCpuMs();
    const result = await step();
    rows.push([what, threadCpuMs() - before]);
    return result;
  };
  await timed("certificate, first", () => createPeerCertificate());
  const { fingerprint } = await timed("certificate, second", () => createPeerCertificate());
  const options = { code: "bench-code", nameplate: "7", channelBinding: fingerprint };
  for (const run of ["first", "second"]) {
    const a = await timed(
      `SPAKE2 receiver start, ${run} run`,
      () => startSpake({ role: "receiver", ...options }),
    );
    const b = await timed(
      `SPAKE2 sender start, ${run} run`,
      () => startSpake({ role: "sender", ...options }),
    );
    await timed(`SPAKE2 receiver finish, ${run} run`, () => a.finish(b.message));
    await timed(`SPAKE2 sender finish, ${run} run`, () => b.finish(a.message));
  }
  for (const [what, ms] of rows) console.log(`${ms.toFixed(1).padStart(7)} ms  ${what}`);
}

const [mode, ...args] = Deno.args;
const role = mode?.replace(/-warm$/, "");
await withMarks(mode, async () => {
  // `send-warm` and `receive-warm` (deno-floor-pake-warm): as p2pft's commands, seed Deno's crypto
  // library off the main thread at once (`warmCrypto`), which the first TLS call pays otherwise.
  if (role !== mode) void warmCrypto();
  if (role === "send") await send(args[0], args[1], Number(args[2]));
  else if (role === "receive") await receive(args[0], args[1], Number(args[2]));
  else if (role === "costs") await costs();
});
