/**
 * The floor for a small transfer: what two minimal Deno processes need on this machine for the
 * job `send` and `receive` do, so that p2pft's time can be read against Deno's own cost, not only
 * against other tools. Run it beside the anchors, in one run:
 *
 *   EXTRA_TOOLS="bench/floor.tool ../shared/bench/tools.d/p2pft.tool" \
 *     TOOLS="wormhole-william-relay p2pft deno-floor deno-bare" ../shared/bench/anchors.sh 1K 5
 *
 * `deno-floor` does what p2pft must, and nothing else: each side binds a UDP socket and registers
 * a code with a local rendezvous (`floor.ts serve`: one datagram each way, no cookies, no NAT
 * observation); the receiver then connects over TCP to the port the sender named, checks a TLS
 * handshake against the sender's certificate (pinned: it is the only trust anchor), reads the file
 * to its end and writes it; the sender, once its receiver closed, exits. No PAKE, no events, no
 * offer. `deno-bare` is `deno run` of this file with no arguments, on both sides: starting Deno.
 * The certificate is made once per harness run by floor.tool (openssl), as p2pft's is kept per
 * process. Modes:
 *
 *   deno run -A bench/floor.ts serve PORT
 *   deno run -A bench/floor.ts send FILE CODE PORT CERT KEY
 *   deno run -A bench/floor.ts receive OUT CODE PORT CERT
 */
const LOOPBACK = "127.0.0.1";
const [mode, ...args] = Deno.args;
const text = new TextEncoder();
const words = new TextDecoder();

/** One datagram `CODE ROLE PORT` per side; the second side of a code gets the first's, and back. */
async function serve(port: number): Promise<void> {
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

/** Registers `CODE ROLE TCPPORT` and waits for the peer's registration. */
async function register(code: string, role: string, tcpPort: number, server: number) {
  const udp = Deno.listenDatagram({ transport: "udp", hostname: LOOPBACK, port: 0 });
  try {
    const to = { transport: "udp", hostname: LOOPBACK, port: server } as const;
    await udp.send(text.encode(`${code} ${role} ${tcpPort}`), to);
    const [reply] = await udp.receive();
    return Number(words.decode(reply).split(" ")[2]);
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
  using conn = await accepted;
  await conn.write(data);
  await conn.closeWrite();
  // The receiver closes once it has everything: then both know the result.
  await conn.read(new Uint8Array(1));
}

async function receive(out: string, code: string, server: number, certFile: string) {
  const cert = await Deno.readTextFile(certFile);
  const port = await register(code, "receive", 0, server);
  using conn = await Deno.connectTls({ hostname: LOOPBACK, port, caCerts: [cert] });
  using file = await Deno.open(out, { write: true, create: true, truncate: true });
  const buffer = new Uint8Array(64 * 1024);
  for (let n; (n = await conn.read(buffer)) !== null;) {
    for (let at = 0; at < n;) at += await file.write(buffer.subarray(at, n));
  }
}

if (mode === "serve") await serve(Number(args[0]));
else if (mode === "send") await send(args[0], args[1], Number(args[2]), args[3], args[4]);
else if (mode === "receive") await receive(args[0], args[1], Number(args[2]), args[3]);
