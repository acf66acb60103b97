/**
 * Baselines for `deno task bench`: copies a file from one process to another
 * over one bare Deno QUIC stream or one TCP socket, writing it to disk, with
 * none of p2pft's protocol or hashing.
 *
 *   deno run -A bench/bare_stream.ts receive quic|tcp OUT_FILE [--hash]   (prints {"port":N}, then {"bytes":N,...})
 *   deno run -A bench/bare_stream.ts send quic|tcp PORT IN_FILE CERT_FILE? [--hash]
 *
 * With --hash both sides also stream the bytes through SHA-256, the least
 * work any verified transfer must add.
 */
import { createHash } from "node:crypto";
import { createPeerCertificate, PEER_SERVER_NAME } from "../peer/mod.ts";

const hashing = Deno.args.includes("--hash");
const [role, transport, ...rest] = Deno.args.filter((arg) => arg !== "--hash");
const hash = createHash("sha256");
/** Passes chunks through, hashing them when --hash was given. */
function hashed(): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream({
    transform(chunk, controller) {
      if (hashing) hash.update(chunk);
      controller.enqueue(chunk);
    },
  });
}
const ALPN = ["bench"];

if (role === "receive") {
  const out = await Deno.open(rest[0], { write: true, create: true, truncate: true });
  let readable: ReadableStream<Uint8Array>;
  let close = () => {};
  if (transport === "quic") {
    const certificate = await createPeerCertificate();
    await Deno.writeTextFile(`${rest[0]}.pem`, certificate.certPem);
    const endpoint = new Deno.QuicEndpoint({ hostname: "127.0.0.1", port: 0 });
    const listener = endpoint.listen({
      alpnProtocols: ALPN,
      cert: certificate.certPem,
      key: certificate.keyPem,
    });
    console.log(JSON.stringify({ port: endpoint.addr.port }));
    const conn = await listener.accept();
    const { value } = await conn.incomingBidirectionalStreams.getReader().read();
    readable = value!.readable;
    close = () => conn.close({ closeCode: 0, reason: "done" });
  } else {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    console.log(JSON.stringify({ port: (listener.addr as Deno.NetAddr).port }));
    const conn = await listener.accept();
    listener.close();
    readable = conn.readable;
  }
  let bytes = 0;
  let started = 0;
  await readable.pipeThrough(hashed()).pipeThrough(
    new TransformStream({
      transform(chunk, controller) {
        if (bytes === 0) started = performance.now();
        bytes += chunk.length;
        controller.enqueue(chunk);
      },
    }),
  ).pipeTo(out.writable);
  console.log(JSON.stringify({ bytes, seconds: (performance.now() - started) / 1000 }));
  close();
  Deno.exit(0);
} else if (role === "send") {
  const [port, path, certPath] = rest;
  const file = await Deno.open(path);
  let writable: WritableStream<Uint8Array>;
  let finish = () => {};
  if (transport === "quic") {
    const conn = await Deno.connectQuic({
      hostname: "127.0.0.1",
      port: Number(port),
      alpnProtocols: ALPN,
      serverName: PEER_SERVER_NAME,
      maxIdleTimeout: 3_000,
      caCerts: [await Deno.readTextFile(certPath)],
    });
    const stream = await conn.createBidirectionalStream();
    writable = stream.writable;
    // The receiver closes the connection once it has every byte.
    finish = () => conn.closed.then(() => {}, () => {});
  } else {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
    writable = conn.writable;
  }
  await file.readable.pipeThrough(hashed()).pipeTo(writable);
  await finish();
} else {
  console.error("usage: bare_stream.ts receive|send quic|tcp ...");
  Deno.exit(2);
}
