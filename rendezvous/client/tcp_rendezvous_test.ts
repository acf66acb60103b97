import { ConnectionLostError, RendezvousError, writeAll } from "../../base/mod.ts";
import { type DatagramPort, type Pairing, register } from "./client.ts";
import {
  decodeMessage,
  encodeFrame,
  encodeMessage,
  MAX_REPLY_SIZE,
  readFrame,
  type RendezvousMessage,
} from "../wire/mod.ts";
import { RendezvousServer } from "../server/mod.ts";
import { connectRendezvousTcp } from "./tcp_rendezvous_port.ts";
import { dialTcpRelay } from "./dial_tcp_relay.ts";
import {
  assert,
  assertEquals,
  assertRejects,
  bytes,
  deadline,
  joinAsReceiver,
  joinAsSender,
  UdpDatagramPort,
} from "../testing/mod.ts";

const LOCAL = { hostname: "127.0.0.1", port: 0 };

/** A raw TCP connection to the server's main port number. */
function connectTo(server: RendezvousServer): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname: server.addr.hostname, port: server.addr.port });
}

async function openPort(
  server: RendezvousServer,
  tcp: boolean,
  signal: AbortSignal,
): Promise<DatagramPort & AsyncDisposable> {
  return tcp ? await connectRendezvousTcp(server.addr, { signal }) : new UdpDatagramPort();
}

/** A sender and a receiver register, each over TCP or UDP as asked. */
async function pairVia(
  server: RendezvousServer,
  senderTcp: boolean,
  receiverTcp: boolean,
  signal: AbortSignal,
): Promise<{ sender: Pairing; receiver: Pairing; natSeen: string[] }> {
  await using senderPort = await openPort(server, senderTcp, signal);
  await using receiverPort = await openPort(server, receiverTcp, signal);
  const natSeen: string[] = [];
  const plate = Promise.withResolvers<string>();
  const sending = register(senderPort, {
    server: server.addr,
    role: "send",
    candidates: [],
    onNameplate: plate.resolve,
    onNat: (mapping) => natSeen.push(`send ${mapping}`),
    signal,
  });
  const nameplate = await Promise.race([plate.promise, sending.then(() => plate.promise)]);
  const [sender, receiver] = await Promise.all([
    sending,
    register(receiverPort, {
      server: server.addr,
      role: "receive",
      nameplate,
      candidates: [],
      onNat: (mapping) => natSeen.push(`receive ${mapping}`),
      signal,
    }),
  ]);
  return { sender, receiver, natSeen };
}

Deno.test("two peers register over TCP, pair, and each learns the other is on TCP", async () => {
  using timeout = deadline(8000);
  await using server = RendezvousServer.listen(LOCAL);
  assert(server.tcp);
  const { sender, receiver, natSeen } = await pairVia(server, true, true, timeout.signal);
  assertEquals(sender.token, receiver.token);
  assertEquals(sender.peer.id, receiver.selfId);
  assertEquals(sender.transport, { self: "tcp", peer: "tcp" });
  assertEquals(receiver.transport, { self: "tcp", peer: "tcp" });
  assertEquals(sender.nat, { self: "endpoint-dependent", peer: "endpoint-dependent" });
  assertEquals(sender.relay, {
    transport: "udp",
    hostname: "127.0.0.1",
    port: server.relayAddr!.port,
  });
  assertEquals(natSeen, []); // nothing was observed, so nothing is reported
  assertEquals(server.stats().pairings, 1);
});

Deno.test("a TCP peer pairs with a UDP peer, both ways round, and the paired message says who is on TCP", async () => {
  using timeout = deadline(8000);
  await using server = RendezvousServer.listen(LOCAL);
  const mixed = await pairVia(server, true, false, timeout.signal);
  assertEquals(mixed.sender.transport, { self: "tcp", peer: "udp" });
  assertEquals(mixed.receiver.transport, { self: "udp", peer: "tcp" });
  assertEquals(mixed.receiver.nat.peer, "endpoint-dependent");
  assertEquals(mixed.natSeen, ["receive endpoint-independent"]); // only the UDP peer observed
  const other = await pairVia(server, false, true, timeout.signal);
  assertEquals(other.sender.transport, { self: "udp", peer: "tcp" });
  assertEquals(other.receiver.transport, { self: "tcp", peer: "udp" });
});

/** Sends one framed message on `conn` and reads one framed reply. */
async function ask(
  conn: Deno.TcpConn,
  message: RendezvousMessage,
): Promise<RendezvousMessage | null> {
  await writeAll(conn, encodeFrame(encodeMessage(message, { padTo: MAX_REPLY_SIZE })));
  return await next(conn);
}

async function next(conn: Deno.TcpConn): Promise<RendezvousMessage | null> {
  const frame = await readFrame(conn, { peer: "server" });
  return frame && decodeMessage(frame);
}

Deno.test("the server pushes paired to a sender waiting on TCP as soon as the receiver comes", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  using conn = await connectTo(server);
  const clientId = bytes(16, 1);
  const waiting = await ask(conn, { type: "register", role: "send", clientId, candidates: [] });
  assert(waiting?.type === "waiting");
  const receiver = await joinAsReceiver(server.addr, waiting.nameplate, timeout.signal);
  // No poll was sent on conn: this paired was pushed.
  const paired = await next(conn);
  assert(paired?.type === "paired");
  assertEquals(paired.token, receiver.token);
  assertEquals(paired.peer.transport, "udp");
});

Deno.test("the server pushes paired to a receiver waiting on TCP as soon as its sender comes", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  using conn = await connectTo(server);
  const clientId = bytes(16, 2);
  const noSender = await ask(conn, {
    type: "register",
    role: "receive",
    clientId,
    nameplate: "7",
    candidates: [],
    waitsForSender: true,
  });
  assert(noSender?.type === "error" && noSender.code === 1);
  const sender = await joinAsSender(server.addr, "7", timeout.signal);
  // No poll was sent on conn: this paired was pushed.
  const paired = await next(conn);
  assert(paired?.type === "paired");
  assertEquals([paired.token, paired.peer.id], [sender.token, sender.selfId]);
  assertEquals(sender.transport.peer, "tcp");
});

Deno.test("a sender's TCP connection closing gives its waiting room up", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  const conn = await connectTo(server);
  const waiting = await ask(conn, {
    type: "register",
    role: "send",
    clientId: bytes(16, 2),
    candidates: [],
  });
  assert(waiting?.type === "waiting");
  assertEquals(server.stats().rooms, 1);
  conn.close();
  await using port = new UdpDatagramPort();
  // The close reaches the server at some point: a receiver then finds no sender.
  for (;;) {
    const outcome = await register(port, {
      server: server.addr,
      role: "receive",
      nameplate: waiting.nameplate,
      candidates: [],
      signal: timeout.signal,
    }).catch((error) => error);
    if (outcome instanceof RendezvousError) break;
    assert(!(outcome instanceof Error), String(outcome));
  }
  assertEquals(server.stats().rooms, 0);
});

Deno.test("register over TCP fails with ConnectionLostError when the server goes away", async () => {
  using timeout = deadline(5000);
  const server = RendezvousServer.listen(LOCAL);
  await using port = await connectRendezvousTcp(server.addr, { signal: timeout.signal });
  const plate = Promise.withResolvers<string>();
  const sending = register(port, {
    server: server.addr,
    role: "send",
    candidates: [],
    onNameplate: plate.resolve,
    signal: timeout.signal,
  });
  await Promise.race([plate.promise, sending]);
  await server.close();
  await assertRejects(() => sending, ConnectionLostError, "closed the TCP connection");
});

/** A framed `observe`: a request the server acts on, which proves a connection. */
function observeFrame(): Uint8Array {
  return encodeFrame(
    encodeMessage({ type: "observe", clientId: bytes(16, 7) }, { padTo: MAX_REPLY_SIZE }),
  );
}

async function closedByServer(conn: Deno.TcpConn): Promise<void> {
  const buffer = new Uint8Array(2048);
  while (await conn.read(buffer) !== null) {
    // replies to what the connection asked: read on to the close
  }
  conn.close();
}

Deno.test("the server closes silent TCP connections, idle ones, slow frames and junk", async () => {
  await using server = RendezvousServer.listen({
    ...LOCAL,
    tcpIdleTimeoutMs: 300,
    tcpReadTimeoutMs: 200,
    tcpFirstFrameTimeoutMs: 200,
  });
  // Silent from the start: closed after the first-frame deadline.
  const silent = await connectTo(server);
  // Proven, then silent: closed after the idle timeout.
  const idle = await connectTo(server);
  await writeAll(idle, observeFrame());
  // Proven, then half a frame: closed after the read deadline.
  const slow = await connectTo(server);
  await writeAll(slow, observeFrame());
  await writeAll(slow, Uint8Array.of(0));
  await Promise.all([closedByServer(silent), closedByServer(idle), closedByServer(slow)]);
  // A length over the limit: closed and counted.
  const junk = await connectTo(server);
  await writeAll(junk, Uint8Array.of(0xff, 0xff));
  await closedByServer(junk);
  assertEquals(server.stats().malformed, 1);
  assertEquals(server.stats().tcpRefused, 0);
});

Deno.test("a full TCP side evicts the oldest unproven connection, and refuses only when all spoke", async () => {
  await using server = RendezvousServer.listen({ ...LOCAL, tcpMaxConnectionsPerSource: 2 });
  const reply = new Uint8Array(2048);
  const first = await connectTo(server);
  const second = await connectTo(server);
  // Over the per-source cap: the oldest unproven one makes room.
  const third = await connectTo(server);
  await closedByServer(first);
  assertEquals(server.stats().tcpEvicted, 1);
  // Two proven connections: a third from the same source is refused.
  for (const conn of [second, third]) {
    await writeAll(conn, observeFrame());
    assert((await conn.read(reply)) !== null);
  }
  await closedByServer(await connectTo(server));
  assertEquals(server.stats().tcpRefused, 1);
  second.close();
  third.close();
});

Deno.test("a TCP side full of proven connections from one source makes room for another source", async () => {
  await using server = RendezvousServer.listen({
    ...LOCAL,
    hostname: "0.0.0.0",
    tcpMaxConnections: 3,
  });
  const port = server.addr.port;
  const reply = new Uint8Array(2048);
  const hog: Deno.TcpConn[] = [];
  for (let i = 0; i < 3; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await writeAll(conn, observeFrame());
    assert((await conn.read(reply)) !== null);
    hog.push(conn);
  }
  // Another address: the source holding the most gives up its oldest connection.
  const other = await Deno.connect({ hostname: "127.0.0.2", port });
  await closedByServer(hog[0]);
  await writeAll(other, observeFrame());
  assert((await other.read(reply)) !== null);
  assertEquals(server.stats().tcpEvicted, 1);
  for (const conn of [...hog.slice(1), other]) conn.close();
});

Deno.test("with tcp: false the server binds no TCP port", async () => {
  await using server = RendezvousServer.listen({ ...LOCAL, tcp: false });
  assert(!server.tcp);
  await assertRejects(() => connectTo(server), Deno.errors.ConnectionRefused);
});

Deno.test("dialTcpRelay to a server that does not relay gets a clear refusal", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen({ ...LOCAL, relay: false });
  assertEquals(server.relayAddr, undefined);
  await assertRejects(
    () =>
      dialTcpRelay(server.addr, {
        token: bytes(16, 1),
        selfId: bytes(16, 2),
        channel: 0,
        signal: timeout.signal,
      }),
    RendezvousError,
    "does not relay",
  );
  assertEquals(server.stats().tcpRelaySessions, 0);
});

Deno.test("a fixed port whose TCP twin is taken fails to bind and leaves nothing bound", () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = taken.addr.port;
  let failure: unknown;
  try {
    RendezvousServer.listen({ hostname: "127.0.0.1", port });
  } catch (error) {
    failure = error;
  }
  assert(failure instanceof Deno.errors.AddrInUse, String(failure));
  // The UDP socket bound before the TCP failure was released.
  Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port }).close();
});
