/**
 * The TCP relay's splice against a direct TCP connection on loopback: one
 * sender and one receiver in this process blast bytes (no disk, no TLS),
 * once directly and once through a rendezvous server in a child process
 * (`bench/tcp_relay.ts serve`), paired over TCP and spliced by its TCP relay.
 * Reports MB/s, the ratio, and CPU seconds per GiB of the endpoints and of
 * the relay (utime + stime from /proc).
 *
 *   deno run -A bench/tcp_relay.ts [--mib 512] [--runs 3]
 *
 * The relay runs with its rate limit set far above loopback speed: the token
 * bucket still runs on every read, so what is measured includes its cost.
 */
import { dialTcpRelay } from "../rendezvous/mod.ts";
import { RendezvousServer } from "../rendezvous/server_mod.ts";
import { pairOverTcp } from "./_tcp_pairing.ts";

const CHUNK = 256 * 1024;

if (Deno.args[0] === "serve") {
  await using server = RendezvousServer.listen({
    hostname: "127.0.0.1",
    port: 0,
    relayBytesPerSecond: 1e12,
    relayMaxBytes: 2 ** 50,
  });
  console.log(JSON.stringify({ port: server.addr.port, relayPort: server.relayAddr!.port }));
  // Serves until the parent closes our stdin.
  for await (const _ of Deno.stdin.readable);
} else {
  const arg = (name: string, fallback: number) => {
    const at = Deno.args.indexOf(name);
    return at >= 0 ? Number(Deno.args[at + 1]) : fallback;
  };
  const bytes = arg("--mib", 512) * 2 ** 20;
  const runs = arg("--runs", 3);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", import.meta.filename!, "serve"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const { port, relayPort } = JSON.parse((await lines.read()).value!);
  const rows = [];
  try {
    for (let run = 0; run < runs; run++) {
      const direct = await measure(child.pid, () => directPair(), bytes);
      const relayed = await measure(child.pid, () => relayedPair(port, relayPort), bytes);
      rows.push({
        "MiB": bytes / 2 ** 20,
        "direct MB/s": direct.mbps.toFixed(0),
        "relayed MB/s": relayed.mbps.toFixed(0),
        "relayed / direct": (relayed.mbps / direct.mbps).toFixed(2),
        "endpoints CPU s/GiB direct": direct.selfCpu.toFixed(2),
        "endpoints CPU s/GiB relayed": relayed.selfCpu.toFixed(2),
        "relay CPU s/GiB": relayed.childCpu.toFixed(2),
      });
    }
  } finally {
    await child.stdin.close();
    lines.cancel();
    await child.status;
  }
  console.log("TCP relay splice vs direct TCP, loopback, one process each side of the relay:");
  console.table(rows);
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
function cpuSeconds(pid: number | "self"): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of stat(5) (utime, stime), counted after the command name.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function measure(
  childPid: number,
  connect: () => Promise<[Deno.TcpConn, Deno.TcpConn]>,
  bytes: number,
) {
  const [a, b] = await connect();
  const self0 = cpuSeconds("self");
  const child0 = cpuSeconds(childPid);
  const started = performance.now();
  await Promise.all([blast(a, bytes), drain(b, bytes)]);
  const seconds = (performance.now() - started) / 1000;
  const gib = bytes / 2 ** 30;
  const result = {
    mbps: bytes / 1e6 / seconds,
    selfCpu: (cpuSeconds("self") - self0) / gib,
    childCpu: (cpuSeconds(childPid) - child0) / gib,
  };
  a.close();
  b.close();
  return result;
}

async function blast(conn: Deno.TcpConn, bytes: number): Promise<void> {
  const chunk = crypto.getRandomValues(new Uint8Array(65536));
  const big = new Uint8Array(CHUNK);
  for (let i = 0; i < CHUNK; i += chunk.length) big.set(chunk, i);
  for (let sent = 0; sent < bytes;) {
    sent += await conn.write(big.subarray(0, Math.min(CHUNK, bytes - sent)));
  }
}

async function drain(conn: Deno.TcpConn, bytes: number): Promise<void> {
  const buffer = new Uint8Array(CHUNK);
  for (let got = 0; got < bytes;) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error(`The stream ended after ${got} of ${bytes} bytes`);
    got += n;
  }
}

async function directPair(): Promise<[Deno.TcpConn, Deno.TcpConn]> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const a = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  return [a, await accepted];
}

async function relayedPair(port: number, relayPort: number): Promise<[Deno.TcpConn, Deno.TcpConn]> {
  const [sender, receiver] = await pairOverTcp(port);
  const relay: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: relayPort };
  return await Promise.all([
    dialTcpRelay(relay, { token: sender.token, selfId: sender.selfId, channel: 0 }),
    dialTcpRelay(relay, { token: receiver.token, selfId: receiver.selfId, channel: 0 }),
  ]);
}
