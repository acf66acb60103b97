/**
 * What each hop of the relayed TLS path costs, each side in its own process
 * as in a real transfer: the sender (TLS server; through the relay node:tls on
 * the connections it dialled, peer/tls/_relay_server.ts), the rendezvous server's TCP relay
 * (its splice) and the receiver (TLS client). The same bytes go once over
 * the LAN TLS link (the sender listening) and once through the relay, over
 * the link's streams with nothing else on them (no files, no hashing), so a
 * row's CPU is the link's own. Prints MB/s and CPU seconds per GiB of each
 * process (utime + stime from /proc).
 *
 *   deno run -A bench/relay_hops.ts [--mib 1024] [--runs 2] [--streams 4]
 */
import { dialTcpRelayWith, type RelayConn, type RelayConnect } from "../rendezvous/mod.ts";
import { RendezvousServer } from "../rendezvous/server_mod.ts";
import {
  certificatePem,
  createPeerCertificate,
  dialTlsPeer,
  listenTlsPeer,
  type PeerLink,
  relayTlsReceiver,
  relayTlsSender,
} from "../peer/mod.ts";
import { fromHex, toHex } from "../base/mod.ts";
import { type CliRun, spawnJsonLines } from "../scripts/cli_process.ts";
import { cpuMs } from "./_bench_util.ts";
import { pairOverTcp } from "./_tcp_pairing.ts";

const CHUNK = 256 * 1024;

/** What a sender or receiver child is told (JSON on its command line). */
interface Job {
  role: "send" | "receive";
  bytes: number;
  streams: number;
  certificate: { certPem: string; keyPem: string; der: string; fingerprint: string };
  /** Direct: the sender's port, which the receiver dials. */
  port?: number;
  /** Relayed: where and as whom to dial the TCP relay. */
  relay?: { port: number; token: string; selfId: string };
}

async function compare(): Promise<void> {
  const option = (name: string, fallback: number) => {
    const at = Deno.args.indexOf(name);
    return at >= 0 ? Number(Deno.args[at + 1]) : fallback;
  };
  const bytes = option("--mib", 1024) * 2 ** 20;
  const runs = option("--runs", 2);
  const streams = option("--streams", 4);
  const cert = await createPeerCertificate();
  const certificate = {
    certPem: cert.certPem,
    keyPem: cert.keyPem,
    der: toHex(cert.der),
    fingerprint: toHex(cert.fingerprint),
  };
  const server = spawnSelf(["serve"], "piped");
  try {
    const { port, relayPort } = await server.next("ready") as unknown as {
      port: number;
      relayPort: number;
    };
    console.log(`${bytes / 2 ** 20} MiB over ${streams} TLS link streams, loopback:`);
    console.table(
      await measureRuns(server.pid, { bytes, streams, certificate, runs }, port, relayPort),
    );
  } finally {
    await server.stdin!.close();
    await server.finished();
  }
}

type Base = Pick<Job, "bytes" | "streams" | "certificate">;

/** `runs` times the direct link, then the relayed one: a table row each. */
async function measureRuns(
  serverPid: number,
  options: Base & { runs: number },
  port: number,
  relayPort: number,
) {
  const { runs, ...base } = options;
  const gib = base.bytes / 2 ** 30;
  const rows = [];
  for (let run = 0; run < runs; run++) {
    for (const path of ["direct", "relay"] as const) {
      const relayed = path === "relay" ? { port, relayPort } : undefined;
      const m = await pair(serverPid, base, relayed);
      rows.push({
        path,
        "MB/s": (base.bytes / 1e6 / m.seconds).toFixed(0),
        "sender CPU s/GiB": (m.sendMs / 1000 / gib).toFixed(2),
        "relay CPU s/GiB": relayed ? (m.serverMs / 1000 / gib).toFixed(2) : "",
        "receiver CPU s/GiB": (m.receiveMs / 1000 / gib).toFixed(2),
      });
    }
  }
  return rows;
}

/** One sender and one receiver child; each reports its CPU once the bytes moved. */
async function pair(
  serverPid: number,
  base: Base,
  relayed: { port: number; relayPort: number } | undefined,
) {
  const serverBefore = cpuMs(serverPid);
  const pairing = relayed ? await relayPairing(relayed.port, relayed.relayPort) : undefined;
  const sender = spawnSelf([
    "child",
    JSON.stringify({ ...base, role: "send", relay: pairing?.send }),
  ]);
  const port = pairing ? undefined : (await sender.next("port")).port;
  const receiver = spawnSelf([
    "child",
    JSON.stringify({ ...base, role: "receive", port, relay: pairing?.receive }),
  ]);
  const [sent, received] = await Promise.all([sender.next("done"), receiver.next("done")]);
  for (const child of [sender, receiver]) {
    const { code, stderr } = await child.finished();
    if (code !== 0) throw new Error(`A benchmark process failed: ${stderr}`);
  }
  return {
    seconds: received.seconds as number,
    sendMs: sent.cpuMs as number,
    receiveMs: received.cpuMs as number,
    serverMs: cpuMs(serverPid) - serverBefore,
  };
}

/** This file in a child process, its stdout read as JSON lines. */
function spawnSelf(args: string[], stdin?: "piped"): CliRun {
  return spawnJsonLines([Deno.execPath(), "run", "-A", import.meta.filename!, ...args], { stdin });
}

/** The two peers' relay dialling details, paired by the server on `port`. */
async function relayPairing(port: number, relayPort: number) {
  const [send, receive] = (await pairOverTcp(port)).map((pairing) => ({
    port: relayPort,
    token: toHex(pairing.token),
    selfId: toHex(pairing.selfId),
  }));
  return { send, receive };
}

async function child(job: Job): Promise<void> {
  const link = await openLink(job);
  const before = cpuMs("self");
  const started = performance.now();
  // The sender's count ends when the receiver closes the link: its socket may still be sending.
  if (job.role === "send") await blast(link, job).then(() => link.closed);
  else await drain(link, job);
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ type: "done", cpuMs: cpuMs("self") - before, seconds }));
  if (job.role === "receive") await link.close({ failed: false, message: "done" });
}

async function openLink(job: Job): Promise<PeerLink> {
  const { certificate: c, relay } = job;
  const certificate = {
    certPem: c.certPem,
    keyPem: c.keyPem,
    der: fromHex(c.der),
    fingerprint: fromHex(c.fingerprint),
  };
  if (relay) {
    const at: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: relay.port };
    const [token, selfId] = [fromHex(relay.token), fromHex(relay.selfId)];
    const dial = <C extends RelayConn>(
      channel: number,
      signal: AbortSignal,
      connect: RelayConnect<C>,
    ) => dialTcpRelayWith(at, { token, selfId, channel, signal, connect });
    return job.role === "send"
      ? await relayTlsSender(dial, { certificate })
      : await relayTlsReceiver(dial, { peerFingerprint: certificate.fingerprint });
  }
  if (job.role === "receive") {
    const at: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: job.port! };
    return await dialTlsPeer(at, { peerCertificatePem: certificatePem(certificate.der) });
  }
  const listener = listenTlsPeer(0, { certificate, hostname: "127.0.0.1" });
  console.log(JSON.stringify({ type: "port", port: listener.port }));
  return await listener.accept();
}

/** Writes `bytes` split over `streams` new streams, CHUNK at a time. */
async function blast(link: PeerLink, job: Job): Promise<void> {
  const chunk = crypto.getRandomValues(new Uint8Array(65_536));
  const big = new Uint8Array(CHUNK);
  for (let at = 0; at < CHUNK; at += chunk.length) big.set(chunk, at);
  const share = Math.ceil(job.bytes / job.streams);
  await Promise.all(Array.from({ length: job.streams }, async () => {
    const writer = (await link.openStream()).writable.getWriter();
    for (let left = share; left > 0; left -= CHUNK) {
      await writer.write(big.subarray(0, Math.min(CHUNK, left)));
    }
    await writer.close();
  }));
}

/** Reads every stream the sender opens to its end, in place. */
async function drain(link: PeerLink, job: Job): Promise<void> {
  await Promise.all(Array.from({ length: job.streams }, async () => {
    const stream = await link.acceptStream();
    const buffer = new Uint8Array(CHUNK);
    while ((await stream.readInto!(buffer)) !== null);
  }));
}

const [command, jobText] = Deno.args;
if (command === "serve") {
  await using server = RendezvousServer.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = server.addr;
  console.log(JSON.stringify({ type: "ready", port, relayPort: server.relayAddr!.port }));
  for await (const _ of Deno.stdin.readable); // serves until the parent closes our stdin
} else if (command === "child") {
  await child(JSON.parse(jobText));
} else {
  await compare();
}
