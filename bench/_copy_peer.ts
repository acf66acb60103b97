/**
 * One side of a two-process copy for `bench/loopback.ts`, on 127.0.0.1.
 *
 * Bare baselines: the file cut into N contiguous parts, one per TLS
 * connection or QUIC stream, each part read, hashed with SHA-256 and written
 * at its offset on both ends, the file synced to disk at the end (the least
 * work any verified, durable transfer adds):
 *
 *   _copy_peer.ts bare-receive tls|quic N OUT    prints {"port","pem"}, then {"bytes","seconds"}
 *   _copy_peer.ts bare-send tls|quic N PORT IN PEM
 *
 * p2pft's transfer over the TLS link without the CLI (no rendezvous, no PAKE):
 *
 *   _copy_peer.ts link-send IN N     prints {"port","pem"}
 *   _copy_peer.ts link-receive PORT PEM OUT   prints {"bytes","seconds"}
 */
import { createHash } from "node:crypto";
import { writeAll } from "../base/mod.ts";
import { connPipe, type Pipe } from "./_pipe.ts";
import {
  certificatePem,
  createPeerCertificate,
  dialTlsPeer,
  listenTlsPeer,
  PEER_SERVER_NAME,
} from "../peer/mod.ts";
import { receiveFiles, scanPaths, sendFiles } from "../transfer/mod.ts";

const ALPN = ["bench"];
const BUFFER = 256 * 1024;
const [role, ...args] = Deno.args;

function quicPipe(stream: Deno.QuicBidirectionalStream): Pipe {
  const reader = stream.readable.getReader({ mode: "byob" });
  const writer = stream.writable.getWriter();
  // One buffer handed to the stream and back on every read (BYOB detaches it),
  // as p2pft's receiver does: a fresh one per read would make the baseline slow.
  let own = new ArrayBuffer(0);
  return {
    async read(buffer) {
      if (own.byteLength < buffer.length) own = new ArrayBuffer(buffer.length);
      const { value, done } = await reader.read(new Uint8Array(own, 0, buffer.length));
      if (done || !value) return null;
      own = value.buffer as ArrayBuffer;
      buffer.set(value);
      return value.length;
    },
    write: (bytes) => writer.write(bytes.slice()),
    end: () => writer.close(),
  };
}

async function receivePart(pipe: Pipe, out: string): Promise<number> {
  const header = new Uint8Array(8);
  for (let filled = 0; filled < 8;) {
    const n = await pipe.read(header.subarray(filled));
    if (n === null) throw new Error("part header cut short");
    filled += n;
  }
  const offset = Number(new DataView(header.buffer).getBigUint64(0));
  using file = await Deno.open(out, { write: true, create: true });
  await file.seek(offset, Deno.SeekMode.Start);
  const hash = createHash("sha256");
  const buffer = new Uint8Array(BUFFER);
  let bytes = 0;
  for (let n = await pipe.read(buffer); n !== null; n = await pipe.read(buffer)) {
    const chunk = buffer.subarray(0, n);
    hash.update(chunk);
    await writeAll(file, chunk);
    bytes += n;
  }
  hash.digest();
  return bytes;
}

async function sendPart(pipe: Pipe, path: string, offset: number, length: number): Promise<void> {
  const header = new Uint8Array(8);
  new DataView(header.buffer).setBigUint64(0, BigInt(offset));
  await pipe.write(header);
  using file = await Deno.open(path);
  await file.seek(offset, Deno.SeekMode.Start);
  const hash = createHash("sha256");
  const buffer = new Uint8Array(BUFFER);
  for (let left = length; left > 0;) {
    const n = await file.read(buffer.subarray(0, Math.min(BUFFER, left)));
    if (n === null) throw new Error(`${path} ended early`);
    hash.update(buffer.subarray(0, n));
    await pipe.write(buffer.subarray(0, n));
    left -= n;
  }
  hash.digest();
  await pipe.end();
}

async function bareReceive(transport: string, count: number, out: string): Promise<void> {
  const certificate = await createPeerCertificate();
  const pem = `${out}.pem`;
  await Deno.writeTextFile(pem, certificate.certPem);
  const pipes: Promise<Pipe>[] = [];
  let close = () => {};
  if (transport === "tls") {
    const listener = Deno.listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert: certificate.certPem,
      key: certificate.keyPem,
    });
    console.log(JSON.stringify({ port: listener.addr.port, pem }));
    const conns: Deno.Conn[] = [];
    for (let index = 0; index < count; index++) {
      const conn = await listener.accept();
      conns.push(conn);
      pipes.push(Promise.resolve(connPipe(conn)));
    }
    listener.close();
    close = () => conns.forEach((conn) => conn.close());
  } else {
    const endpoint = new Deno.QuicEndpoint({ hostname: "127.0.0.1", port: 0 });
    const listener = endpoint.listen({
      alpnProtocols: ALPN,
      cert: certificate.certPem,
      key: certificate.keyPem,
    });
    console.log(JSON.stringify({ port: endpoint.addr.port, pem }));
    const conn = await listener.accept();
    const streams = conn.incomingBidirectionalStreams.getReader();
    for (let index = 0; index < count; index++) {
      const { value } = await streams.read();
      pipes.push(Promise.resolve(quicPipe(value!)));
    }
    close = () => {
      conn.close({ closeCode: 0, reason: "done" });
      endpoint.close();
    };
  }
  const started = performance.now();
  const bytes = await Promise.all(pipes.map(async (pipe) => receivePart(await pipe, out)));
  {
    // p2pft makes every file durable before it confirms it; so does the baseline.
    using file = await Deno.open(out, { write: true });
    await file.syncData();
  }
  const seconds = (performance.now() - started) / 1000;
  close();
  console.log(JSON.stringify({ bytes: bytes.reduce((a, b) => a + b, 0), seconds }));
}

async function bareSend(transport: string, count: number, port: number, path: string, pem: string) {
  const size = (await Deno.stat(path)).size;
  const part = Math.ceil(size / count);
  const caCerts = [await Deno.readTextFile(pem)];
  const parts = Array.from({ length: count }, (_, index) => ({
    offset: index * part,
    length: Math.max(0, Math.min(part, size - index * part)),
  }));
  if (transport === "tls") {
    await Promise.all(parts.map(async ({ offset, length }) => {
      const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
      using conn = await Deno.startTls(tcp, { hostname: PEER_SERVER_NAME, caCerts });
      await sendPart(connPipe(conn), path, offset, length);
      // The receiver closes once it has read every part.
      await conn.read(new Uint8Array(1)).catch(() => null);
    }));
    return;
  }
  const conn = await Deno.connectQuic({
    hostname: "127.0.0.1",
    port,
    alpnProtocols: ALPN,
    serverName: PEER_SERVER_NAME,
    caCerts,
  });
  await Promise.all(parts.map(async ({ offset, length }) => {
    const stream = await conn.createBidirectionalStream();
    await sendPart(quicPipe(stream), path, offset, length);
  }));
  await conn.closed.catch(() => {});
}

async function linkSend(path: string, streams: number): Promise<void> {
  const certificate = await createPeerCertificate();
  const pem = `${path}.pem`;
  await Deno.writeTextFile(pem, certificatePem(certificate.der));
  await using listener = listenTlsPeer(0, { certificate, hostname: "127.0.0.1" });
  console.log(JSON.stringify({ port: listener.port, pem }));
  const link = await listener.accept();
  await sendFiles(await scanPaths([path]), { connection: link, streams });
  await link.close({ failed: false, message: "done" });
}

async function linkReceive(port: number, pem: string, outDir: string): Promise<void> {
  const link = await dialTlsPeer({ transport: "tcp", hostname: "127.0.0.1", port }, {
    peerCertificatePem: await Deno.readTextFile(pem),
  });
  const report = await receiveFiles({ connection: link, outDir });
  await link.closed;
  console.log(JSON.stringify({ bytes: report.bytesTransferred, seconds: report.seconds }));
}

switch (role) {
  case "bare-receive":
    await bareReceive(args[0], Number(args[1]), args[2]);
    break;
  case "bare-send":
    await bareSend(args[0], Number(args[1]), Number(args[2]), args[3], args[4]);
    break;
  case "link-send":
    await linkSend(args[0], Number(args[1]));
    break;
  case "link-receive":
    await linkReceive(Number(args[0]), args[1], args[2]);
    break;
  default:
    console.error("usage: see the module doc of bench/_copy_peer.ts");
    Deno.exit(2);
}
