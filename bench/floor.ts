/**
 * The floor for a small transfer: what two minimal Deno processes need on this machine for the
 * job `send` and `receive` do, so that p2pft's time can be read against Deno's own cost, not only
 * against other tools. Run it beside the anchors, in one run:
 *
 *   EXTRA_TOOLS="bench/floor.tool ../shared/bench/tools.d/p2pft.tool" \
 *     TOOLS="wormhole-william-relay p2pft deno-floor deno-floor-pake deno-floor-pake-warm \
 *     deno-floor-node deno-bare" ../shared/bench/anchors.sh 1K 5
 *
 * `deno-floor` does what p2pft must, and nothing else: each side binds a UDP socket and registers
 * a code with a local rendezvous (`floor.ts serve`: one datagram each way, no cookies, no NAT
 * observation); the receiver then connects over TCP to the port the sender named, checks a TLS
 * handshake against the sender's certificate (pinned: it is the only trust anchor), reads the file
 * to its end and writes it; the sender, once its receiver closed, exits. No PAKE, no events, no
 * offer. `deno-bare` is `deno run` of this file with no arguments, on both sides: starting Deno.
 * The certificate is made once per harness run by floor.tool (openssl). `deno-floor-pake`
 * (floor_pake.ts) adds what a code demands: a certificate made per process and p2pft's SPAKE2.
 * `deno-floor-node` (modes `send-node`, `receive-node`) is deno-floor after a first import of a
 * Node built-in, which bootstraps Deno's Node layer: ~42 ms of main-thread CPU on each side
 * (medians of 8 at load 6; node:path alone ~17, node:fs, node:crypto and node:tls 40-50). Modes:
 *
 *   deno run -A bench/floor.ts serve PORT
 *   deno run -A bench/floor.ts send[-node] FILE CODE PORT CERT KEY
 *   deno run -A bench/floor.ts receive[-node] OUT CODE PORT CERT
 *
 * FLOOR_MARKS: see floor_pake.ts.
 */
export const LOOPBACK = "127.0.0.1";
const [mode, ...args] = Deno.args;
const text = new TextEncoder();
const words = new TextDecoder();
const MARKS = Deno.env.get("FLOOR_MARKS") !== undefined;
const marks: string[] = [];

/** The main thread's CPU ms so far. */
export function threadCpuMs(): number {
  const stat = Deno.readTextFileSync(`/proc/self/task/${Deno.pid}/schedstat`);
  return Number(stat.split(" ")[0]) / 1e6;
}

/** The CPU ms so far of the process's live threads. */
function allThreadsCpuMs(): number {
  let sum = 0;
  for (const task of Deno.readDirSync("/proc/self/task")) {
    const stat = Deno.readTextFileSync(`/proc/self/task/${task.name}/schedstat`);
    sum += Number(stat.split(" ")[0]) / 1e6;
  }
  return sum;
}

/** With FLOOR_MARKS set: notes a step, with the ms since the process started and its CPU ms. */
export function mark(step: string): void {
  if (MARKS) marks.push(`${step} ${performance.now().toFixed(1)} ${threadCpuMs().toFixed(1)}`);
}

/** Runs one side, then (with FLOOR_MARKS set) prints its steps on one line to stderr. */
export async function withMarks(side: string, run: () => Promise<void>): Promise<void> {
  mark("start");
  try {
    await run();
  } finally {
    mark("end");
    if (MARKS) {
      console.error(`${side} | ${marks.join(" | ")} | threads ${allThreadsCpuMs().toFixed(1)}`);
    }
  }
}

/** One datagram `CODE ROLE PORT` per side; the second side of a code gets the first's, and back. */
export async function serve(port: number): Promise<void> {
  const udp = Deno.listenDatagram({ transport: "udp", hostname: LOOPBACK, port });
  const waiting = new Map<string, [Uint8Array, Deno.NetAddr]>();
  for await (const [data, from] of udp) {
    const code = words.decode(data).split(" ")[0];
    const first = waiting.get(code);
    if (first === undefined) {
      waiting.set(code, [data, from as Deno.NetAddr]);
      continue;
    }
    waiting.delete(code);
    await udp.send(first[0], from);
    await udp.send(data, first[1]);
  }
}

/** What the peer registered: its TCP port, and the bytes it attached (the sender's certificate). */
export interface Registered {
  port: number;
  attached: Uint8Array;
}

/**
 * Registers `CODE ROLE TCPPORT`, then a newline and `attached` (one datagram), and waits for the
 * peer's registration.
 */
export async function register(
  code: string,
  role: string,
  tcpPort: number,
  server: number,
  attached: Uint8Array = new Uint8Array(0),
): Promise<Registered> {
  const udp = Deno.listenDatagram({ transport: "udp", hostname: LOOPBACK, port: 0 });
  try {
    const to = { transport: "udp", hostname: LOOPBACK, port: server } as const;
    const head = text.encode(`${code} ${role} ${tcpPort}\n`);
    const datagram = new Uint8Array(head.length + attached.length);
    datagram.set(head);
    datagram.set(attached, head.length);
    await udp.send(datagram, to);
    const [reply] = await udp.receive();
    const end = reply.indexOf(0x0a);
    return {
      port: Number(words.decode(reply.subarray(0, end)).split(" ")[2]),
      attached: reply.slice(end + 1),
    };
  } finally {
    udp.close();
  }
}

async function send(file: string, code: string, server: number, certFile: string, keyFile: string) {
  const [data, cert, key] = await Promise.all([
    Deno.readFile(file),
    Deno.readTextFile(certFile),
    Deno.readTextFile(keyFile),
  ]);
  using listener = Deno.listenTls({ hostname: LOOPBACK, port: 0, cert, key });
  const accepted = listener.accept();
  await register(code, "send", listener.addr.port, server);
  mark("paired");
  using conn = await accepted;
  mark("accepted");
  await conn.write(data);
  await conn.closeWrite();
  // The receiver closes once it has everything: then both know the result.
  await conn.read(new Uint8Array(1));
}

async function receive(out: string, code: string, server: number, certFile: string) {
  const cert = await Deno.readTextFile(certFile);
  const { port } = await register(code, "receive", 0, server);
  mark("paired");
  using conn = await Deno.connectTls({ hostname: LOOPBACK, port, caCerts: [cert] });
  await conn.handshake();
  mark("tls");
  using file = await Deno.open(out, { write: true, create: true, truncate: true });
  const buffer = new Uint8Array(64 * 1024);
  for (let n; (n = await conn.read(buffer)) !== null;) {
    for (let at = 0; at < n;) at += await file.write(buffer.subarray(at, n));
  }
}

if (import.meta.main) {
  const role = mode?.replace(/-node$/, "");
  await withMarks(mode, async () => {
    // `send-node` and `receive-node` (deno-floor-node): the same after a first Node built-in.
    if (role !== mode) await import("node:net").then(() => mark("node"));
    if (role === "serve") await serve(Number(args[0]));
    else if (role === "send") await send(args[0], args[1], Number(args[2]), args[3], args[4]);
    else if (role === "receive") await receive(args[0], args[1], Number(args[2]), args[3]);
  });
}
