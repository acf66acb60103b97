/**
 * The floor under p2pft's big-file path, in the side-by-side harness: one file over 4 TLS
 * connections with SHA-256 on both ends, sender and receiver in separate processes, file in and
 * file out, with no link or transfer protocol. `floor` goes straight (the receiver listens with
 * `Deno.listenTls`); `floor-sync` too, with p2pft's durability (`--sync`: an fdatasync every
 * 64 MiB of a part, overlapping the next bytes, then the file's synced pages dropped from the
 * page cache, and a last one before the end, as transfer/_partial_file.ts does; magic-wormhole
 * never syncs); `floor-relay` goes through a rendezvous server's TCP relay (its splice), the
 * sender serving TLS in place with node:tls on the connections it dialled as p2pft's relay sender
 * does (peer/tls/_relay_server.ts, Nagle back on after the handshake), the receiver a
 * `Deno.startTls` client; `floor-sync-relay` too, with
 * p2pft's durability. What p2pft adds on top of either is its own cost.
 *
 * Run it beside p2pft and magic-wormhole (as root, from the project root):
 *
 *   EXTRA_TOOLS="bench/tls_floor.tool ../shared/bench/tools.d/p2pft.tool" \
 *     TOOLS="wormhole-direct p2pft floor floor-sync" ../shared/bench/anchors.sh 1G 3
 *   EXTRA_TOOLS="bench/tls_floor.tool ../shared/bench/tools.d/p2pft-relay.tool" \
 *     TOOLS="wormhole-relay p2pft-relay floor-relay floor-sync-relay" ../shared/bench/anchors.sh 1G 3
 *
 * `bench/tls_floor.tool` registers the four tools (its rendezvous server on 127.0.0.1:4790). By hand:
 *
 *   deno run -A bench/tls_floor.ts cert CERT.json
 *   deno run -A bench/tls_floor.ts receive CERT.json OUT BYTES [--sync] --port P | --relay HOST:PORT NAMEPLATE
 *   deno run -A bench/tls_floor.ts send CERT.json SRC --port P | --relay HOST:PORT NAMEPLATE
 */
import { createHash, type Hash } from "node:crypto";
import { fillFrom, writeAll } from "../base/mod.ts";
import { dropCleanPages } from "../base/drop_cache.ts";
import { connPipe, type Pipe } from "./_pipe.ts";
import {
  connectRendezvousTcp,
  dialTcpRelay,
  dialTcpRelayWith,
  register,
} from "../rendezvous/mod.ts";
import {
  connectNode,
  createPeerCertificate,
  PEER_SERVER_NAME,
  type PeerCertificate,
  serveTls,
} from "../peer/mod.ts";

const STREAMS = 4;
const CHUNK = 1024 * 1024;

/** The file's bytes carried by connection `index` of `STREAMS`: whole chunks, the last shorter. */
function partOf(size: number, index: number): { from: number; to: number } {
  const part = Math.ceil(size / STREAMS / CHUNK) * CHUNK;
  return { from: Math.min(size, index * part), to: Math.min(size, (index + 1) * part) };
}

async function readCertificate(path: string): Promise<PeerCertificate> {
  const { certPem, keyPem } = JSON.parse(await Deno.readTextFile(path));
  return { certPem, keyPem, der: new Uint8Array(), fingerprint: new Uint8Array() };
}

/** Sends part `index` of `src`: its index (4 bytes), then its bytes, each chunk read ahead. */
async function sendPart(plain: Pipe, src: string, size: number, index: number, hash: Hash) {
  using file = await Deno.open(src);
  const { from, to } = partOf(size, index);
  await file.seek(from, Deno.SeekMode.Start);
  const head = new Uint8Array(4);
  new DataView(head.buffer).setUint32(0, index);
  await plain.write(head);
  const buffers = [new Uint8Array(CHUNK), new Uint8Array(CHUNK)];
  const read = (at: number, turn: number) =>
    fillFrom(file, buffers[turn % 2].subarray(0, Math.min(CHUNK, to - at)));
  let next = from < to ? read(from, 0) : undefined;
  for (let at = from, turn = 0; at < to; turn++) {
    const chunk = buffers[turn % 2].subarray(0, await next!);
    at += chunk.length;
    next = at < to ? read(at, turn + 1) : undefined;
    hash.update(chunk);
    await plain.write(chunk);
  }
  await plain.end();
}

/**
 * Bytes of a part after which an fdatasync starts (`--sync`), and then the clean pages go, as
 * p2pft's receiver does.
 */
const SYNC_EVERY = 64 * 1024 * 1024;

/**
 * Receives one part into `out` at its place: reads fill a chunk, which is written behind;
 * `sync`: fdatasync and drop the synced pages as p2pft does.
 */
async function receivePart(plain: Pipe, out: string, size: number, hash: Hash, sync: boolean) {
  const head = new Uint8Array(4);
  await fillFrom(plain, head);
  const { from, to } = partOf(size, new DataView(head.buffer).getUint32(0));
  using file = await Deno.open(out, { write: true, create: true });
  await file.seek(from, Deno.SeekMode.Start);
  const buffers = [new Uint8Array(CHUNK), new Uint8Array(CHUNK)];
  let writing: Promise<void> = Promise.resolve();
  let syncing: Promise<void> | undefined;
  for (let at = from, turn = 0; at < to; turn++) {
    const chunk = buffers[turn % 2].subarray(0, Math.min(CHUNK, to - at));
    await fillFrom(plain, chunk);
    hash.update(chunk);
    await writing;
    if (sync && !syncing && at > from && (at - from) % SYNC_EVERY === 0) {
      syncing = file.syncData().then(() => dropCleanPages(out)).finally(() => syncing = undefined);
    }
    writing = writeAll(file, chunk);
    at += chunk.length;
  }
  await writing;
  await syncing;
  if (sync) await file.syncData();
  if ((await plain.read(head)) !== null) throw new Error("bytes past the part's end");
}

/** Both peers' pairing at the rendezvous server, over TCP: the relay's address and tickets. */
async function pair(server: string, nameplate: string, role: "send" | "receive") {
  const [hostname, port] = server.split(":");
  const addr: Deno.NetAddr = { transport: "udp", hostname, port: Number(port) };
  await using rendezvous = await connectRendezvousTcp(addr);
  const pairing = await register(rendezvous, {
    server: addr,
    role,
    nameplate,
    candidates: [],
    ...(role === "receive" ? { waitForSenderMs: 30_000 } : {}),
  });
  if (!pairing.relay) throw new Error(`${server} does not relay`);
  const dial = { token: pairing.token, selfId: pairing.selfId };
  return { relay: { ...pairing.relay, transport: "tcp" as const }, dial };
}

/** The sender's connections: dialled straight, or through the relay (node:tls serving in place). */
async function senderConns(certificate: PeerCertificate, args: string[]): Promise<Pipe[]> {
  if (args[0] === "--port") {
    const port = Number(args[1]);
    const options = { hostname: PEER_SERVER_NAME, caCerts: [certificate.certPem] };
    return await Promise.all(Array.from({ length: STREAMS }, async () => {
      const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
      return connPipe(await Deno.startTls(tcp, options));
    }));
  }
  const { relay, dial } = await pair(args[1], args[2], "send");
  const signal = new AbortController().signal;
  return await Promise.all(Array.from({ length: STREAMS }, async (_, channel) => {
    const conn = await dialTcpRelayWith(relay, { ...dial, channel, connect: connectNode });
    const { stream } = await serveTls(conn, certificate, { what: "floor", signal, bulk: true });
    const writer = stream.writable.getWriter();
    return {
      read: stream.readInto!,
      write: (bytes: Uint8Array) => writer.write(bytes),
      end: () => writer.close(),
    };
  }));
}

/** The receiver's connections: accepted on its TLS listener, or its TLS clients through the relay. */
async function receiverConns(certificate: PeerCertificate, args: string[]): Promise<Pipe[]> {
  if (args[0] === "--port") {
    using listener = Deno.listenTls({
      hostname: "127.0.0.1",
      port: Number(args[1]),
      cert: certificate.certPem,
      key: certificate.keyPem,
    });
    const conns = [];
    for (let i = 0; i < STREAMS; i++) conns.push(connPipe(await listener.accept()));
    return conns;
  }
  const { relay, dial } = await pair(args[1], args[2], "receive");
  return await Promise.all(Array.from({ length: STREAMS }, async (_, channel) => {
    const tcp = await dialTcpRelay(relay, { ...dial, channel });
    const options = { hostname: PEER_SERVER_NAME, caCerts: [certificate.certPem] };
    return connPipe(await Deno.startTls(tcp, options));
  }));
}

const [command, ...args] = Deno.args;
if (command === "cert") {
  const { certPem, keyPem } = await createPeerCertificate();
  await Deno.writeTextFile(args[0], JSON.stringify({ certPem, keyPem }));
} else if (command === "send") {
  const [certFile, src, ...how] = args;
  const certificate = await readCertificate(certFile);
  const size = (await Deno.stat(src)).size;
  const conns = await senderConns(certificate, how);
  const hashes = conns.map(() => createHash("sha256"));
  await Promise.all(conns.map((plain, i) => sendPart(plain, src, size, i, hashes[i])));
  hashes.forEach((hash) => hash.digest());
} else if (command === "receive") {
  const [certFile, out, bytes, ...rest] = args;
  const sync = rest[0] === "--sync";
  const certificate = await readCertificate(certFile);
  const conns = await receiverConns(certificate, sync ? rest.slice(1) : rest);
  const hashes = conns.map(() => createHash("sha256"));
  await Promise.all(
    conns.map((plain, i) => receivePart(plain, out, Number(bytes), hashes[i], sync)),
  );
  hashes.forEach((hash) => hash.digest());
} else {
  throw new Error(`usage: see the header of ${import.meta.filename}`);
}
