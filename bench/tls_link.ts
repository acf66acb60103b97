/**
 * The TLS link's cost in one process on loopback: 256 MiB through
 * sendFiles/receiveFiles over a LAN TLS link (4 streams) against a bare TLS
 * copy over 4 connections with SHA-256 on both ends, and the same link served
 * by the Nagle-free listener small transfers use (node:tls). Prints MB/s, the
 * ratio and CPU seconds per GiB (utime + stime of this process, both sides).
 *
 *   deno run -A bench/tls_link.ts [MiB]
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { writeAll } from "../base/mod.ts";
import {
  certificatePem,
  createPeerCertificate,
  dialTlsPeer,
  listenTlsPeer,
  listenTlsPeerNoDelay,
  PEER_SERVER_NAME,
} from "../peer/mod.ts";
import { receiveFiles, scanPaths, sendFiles } from "../transfer/mod.ts";

const MIB = 1024 * 1024;
const size = Number(Deno.args[0] ?? 256) * MIB;
const STREAMS = 4;
const CLOCK_TICKS = 100;

function cpuSeconds(): number {
  const fields = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

async function measure(name: string, run: () => Promise<void>) {
  const cpu = cpuSeconds();
  const start = performance.now();
  await run();
  const seconds = (performance.now() - start) / 1000;
  const cpuPerGiB = (cpuSeconds() - cpu) / (size / (1024 * MIB));
  return { name, mbps: size / 1e6 / seconds, cpuPerGiB };
}

const dir = await Deno.makeTempDir({ prefix: "p2pft-bench-tls-" });
try {
  const file = join(dir, "in.bin");
  {
    using out = await Deno.open(file, { write: true, create: true });
    const chunk = crypto.getRandomValues(new Uint8Array(65_536));
    for (let written = 0; written < size; written += chunk.length) await out.write(chunk);
  }
  const certificate = await createPeerCertificate();
  const pem = certificatePem(certificate.der);

  const bare = await measure(`bare TLS x${STREAMS} + SHA-256 both ends, to disk`, async () => {
    using listener = Deno.listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert: certificate.certPem,
      key: certificate.keyPem,
    });
    const part = size / STREAMS;
    const receive = async (conn: Deno.TlsConn, i: number) => {
      using out = await Deno.open(join(dir, `bare${i}.bin`), { write: true, create: true });
      const hash = createHash("sha256");
      const buffer = new Uint8Array(256 * 1024);
      while (true) {
        const n = await conn.read(buffer);
        if (n === null) break;
        hash.update(buffer.subarray(0, n));
        await out.write(buffer.subarray(0, n));
      }
      hash.digest();
      conn.close();
    };
    const receiving = (async () => {
      const running = [];
      for (let i = 0; i < STREAMS; i++) running.push(receive(await listener.accept(), i));
      await Promise.all(running);
    })();
    const sending = Array.from({ length: STREAMS }, async (_, i) => {
      const tcp = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
      using conn = await Deno.startTls(tcp, { hostname: PEER_SERVER_NAME, caCerts: [pem] });
      using input = await Deno.open(file);
      await input.seek(i * part, Deno.SeekMode.Start);
      const hash = createHash("sha256");
      const buffer = new Uint8Array(256 * 1024);
      for (let left = part; left > 0;) {
        const n = await input.read(buffer.subarray(0, Math.min(buffer.length, left)));
        if (n === null) break;
        hash.update(buffer.subarray(0, n));
        await writeAll(conn, buffer.subarray(0, n));
        left -= n;
      }
      hash.digest();
      await conn.closeWrite();
    });
    await Promise.all([...sending, receiving]);
  });

  const overLink = (noDelay: boolean) => async () => {
    const options = { certificate, hostname: "127.0.0.1" };
    await using listener = noDelay
      ? await listenTlsPeerNoDelay(0, options)
      : listenTlsPeer(0, options);
    const [sender, receiver] = await Promise.all([
      listener.accept(),
      dialTlsPeer({ transport: "tcp", hostname: "127.0.0.1", port: listener.port }, {
        peerCertificatePem: pem,
      }),
    ]);
    const outDir = join(dir, "out");
    await Promise.all([
      sendFiles(await scanPaths([file]), { connection: sender, streams: STREAMS }),
      receiveFiles({ connection: receiver, outDir }),
    ]);
    await sender.close({ failed: false, message: "done" });
    await receiver.closed;
    await Deno.remove(outDir, { recursive: true });
  };
  const link = await measure(
    `p2pft sendFiles over the TLS link, ${STREAMS} streams`,
    overLink(false),
  );
  const noDelay = await measure(`the same, node:tls listener (Nagle off)`, overLink(true));

  for (const row of [bare, link, noDelay]) {
    console.log(
      `${row.name.padEnd(48)} ${row.mbps.toFixed(0).padStart(5)} MB/s  ${
        row.cpuPerGiB.toFixed(2)
      } CPU s/GiB`,
    );
  }
  console.log(
    `ratio link/bare: ${(link.mbps / bare.mbps).toFixed(2)}x speed, ${
      (link.cpuPerGiB / bare.cpuPerGiB).toFixed(2)
    }x CPU per GiB (${size / MIB} MiB)`,
  );
} finally {
  await Deno.remove(dir, { recursive: true });
}
