import { type DatagramPort, type Pairing, register, type RegisterOptions } from "./client.ts";
import { decodeMessage, encodeMessage, MAX_REPLY_SIZE, type NatMapping } from "../wire/mod.ts";
import { RendezvousServer } from "../server/mod.ts";
import { DatagramQueue } from "../../base/mod.ts";
import {
  assert,
  assertEquals,
  bytes,
  cookieFor,
  deadline,
  exchange,
  UdpDatagramPort,
  udpSocket,
  until,
} from "../testing/mod.ts";

const LOCAL = { hostname: "127.0.0.1", port: 0 };

/**
 * An endpoint-dependent "NAT" in a DatagramPort: datagrams to the server's
 * main port leave from one socket, everything else from another, and both
 * sockets' replies arrive in one queue.
 */
class SplitMappingPort implements DatagramPort, AsyncDisposable {
  readonly #queue = new DatagramQueue(64);
  readonly main = new UdpDatagramPort("127.0.0.1", { queue: this.#queue });
  readonly other = new UdpDatagramPort("127.0.0.1", { queue: this.#queue });
  constructor(readonly mainPort: number) {}
  send(data: Uint8Array, to: Deno.NetAddr): Promise<void> {
    return (to.port === this.mainPort ? this.main : this.other).send(data, to);
  }
  receive(signal: AbortSignal) {
    return this.#queue.take(signal);
  }
  async [Symbol.asyncDispose]() {
    await this.main.close();
    await this.other.close();
  }
}

/** Pairs `senderPort` and `receiverPort` and records each side's onNat calls. */
async function pairPorts(
  server: RendezvousServer,
  ports: [DatagramPort, DatagramPort],
  candidates: [Deno.NetAddr[], Deno.NetAddr[]],
  signal: AbortSignal,
): Promise<{ pairings: [Pairing, Pairing]; nats: [NatMapping[], NatMapping[]] }> {
  const nats: [NatMapping[], NatMapping[]] = [[], []];
  const plate = Promise.withResolvers<string>();
  const base = (i: 0 | 1): Omit<RegisterOptions, "role"> => ({
    server: server.addr,
    candidates: candidates[i],
    onNat: (mapping) => nats[i].push(mapping),
    signal,
  });
  const sending = register(ports[0], { ...base(0), role: "send", onNameplate: plate.resolve });
  const nameplate = await Promise.race([plate.promise, sending.then(() => plate.promise)]);
  const receiving = register(ports[1], { ...base(1), role: "receive", nameplate });
  return { pairings: await Promise.all([sending, receiving]), nats };
}

Deno.test("register classifies loopback as endpoint-independent, or none when its address is a candidate", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  await using a = new UdpDatagramPort();
  await using b = new UdpDatagramPort();
  const { pairings: [pa, pb], nats } = await pairPorts(
    server,
    [a, b],
    [[], [b.addr]],
    timeout.signal,
  );
  assertEquals(nats, [["endpoint-independent"], ["none"]]);
  assertEquals(pa.nat, { self: "endpoint-independent", peer: "none" });
  assertEquals(pb.nat, { self: "none", peer: "endpoint-independent" });
  const relay = { transport: "udp", hostname: "127.0.0.1", port: server.relayAddr!.port };
  assertEquals([pa.relay, pb.relay], [relay, relay]);
  // No amplification: every reply, observations included, is no longer than any request
  // answered (the `leave` each sends once paired gets no answer).
  const requests = [...a.sentSizes, ...b.sentSizes].filter((size) => size >= MAX_REPLY_SIZE);
  const replies = [...a.receivedSizes, ...b.receivedSizes];
  assert(requests.length >= 6 && replies.length >= 6, `${requests} / ${replies}`);
  assert(Math.max(...replies) <= Math.min(...requests), `${replies} vs ${requests}`);
});

Deno.test("register classifies a mapping with a new port per server port as endpoint-dependent", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  await using split = new SplitMappingPort(server.addr.port);
  await using b = new UdpDatagramPort();
  const { pairings: [pa, pb], nats } = await pairPorts(
    server,
    [split, b],
    [[split.main.addr, split.other.addr], []],
    timeout.signal,
  );
  assertEquals(nats, [["endpoint-dependent"], ["endpoint-independent"]]);
  assertEquals(pa.nat, { self: "endpoint-dependent", peer: "endpoint-independent" });
  assertEquals(pb.nat, { self: "endpoint-independent", peer: "endpoint-dependent" });
  assertEquals(pb.peer.observed, split.main.addr);
  assert(split.other.sentSizes.length >= 1, "the alt port was asked from the other socket");
});

Deno.test("observing the NAT comes before the nameplate", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  await using port = new UdpDatagramPort();
  const events: string[] = [];
  const stop = new AbortController();
  const confirmed = Promise.withResolvers<void>();
  const done = register(port, {
    server: server.addr,
    role: "send",
    candidates: [],
    onNat: (mapping) => events.push(mapping),
    onNameplate: (plate) => {
      events.push(plate);
      confirmed.resolve();
    },
    signal: AbortSignal.any([timeout.signal, stop.signal]),
  });
  await confirmed.promise;
  stop.abort(new Error("done"));
  await done.catch(() => {});
  assertEquals(events, ["endpoint-independent", "1"]);
});

Deno.test("a silent alt port is asked again until its timeout, then register guesses from the main port", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  await using port = new UdpDatagramPort();
  // What the client sent, in order: the message type, and whether to the alt port (dropped).
  const sent: string[] = [];
  const toMain = {
    send: (data: Uint8Array, to: Deno.NetAddr) => {
      const alt = to.port !== server.addr.port;
      sent.push(`${decodeMessage(data).type}${alt ? " to alt" : ""}`);
      return alt ? Promise.resolve() : port.send(data, to);
    },
    receive: (signal: AbortSignal) => port.receive(signal),
  };
  const nats: NatMapping[] = [];
  const confirmed = Promise.withResolvers<void>();
  const stop = new AbortController();
  const done = register(toMain, {
    server: server.addr,
    role: "send",
    candidates: [port.addr],
    // The alt port's wait is this (under ALT_TIMEOUT_MS): resends at 300 and 900 ms, gives up at 1000.
    serverTimeoutMs: 1000,
    onNat: (mapping) => nats.push(mapping),
    onNameplate: () => confirmed.resolve(),
    signal: AbortSignal.any([timeout.signal, stop.signal]),
  });
  await confirmed.promise;
  stop.abort(new Error("done"));
  await done.catch(() => {});
  assertEquals(nats, ["none"]);
  // It kept asking the alt port (a resend: it waited past the first retransmit), and
  // registered only once it gave up, without an answer from the alt port.
  const altAsks = sent.filter((what) => what === "observe to alt").length;
  assert(altAsks >= 2, `alt port asked ${altAsks} times: ${sent}`);
  assert(sent.lastIndexOf("observe to alt") < sent.indexOf("register"), `${sent}`);
});

Deno.test("a pairing has no relay address when the server runs without a relay", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen({ ...LOCAL, relay: false });
  await using a = new UdpDatagramPort();
  await using b = new UdpDatagramPort();
  const { pairings: [pa, pb] } = await pairPorts(server, [a, b], [[], []], timeout.signal);
  assertEquals([pa.relay, pb.relay, server.relayAddr], [undefined, undefined, undefined]);
});

Deno.test("both server ports answer observe with the source address and the alt and relay ports", async () => {
  await using server = RendezvousServer.listen(LOCAL);
  using conn = udpSocket();
  // One cookie, from the main port, serves the alt port too: it is bound to our address only.
  const cookie = await cookieFor(conn, server.addr);
  const request = encodeMessage({ type: "observe", clientId: bytes(16, 7), cookie }, {
    padTo: MAX_REPLY_SIZE,
  });
  for (const to of [server.addr, server.altAddr]) {
    const reply = await exchange(conn, request, to);
    assert(reply !== undefined && reply.length <= request.length);
    assertEquals(decodeMessage(reply), {
      type: "observation",
      clientId: bytes(16, 7),
      observed: { ...conn.addr as Deno.NetAddr },
      altPort: server.altAddr.port,
      relayPort: server.relayAddr!.port,
    });
  }
  assertEquals([server.stats().cookies, server.stats().replies], [1, 3]);
});

Deno.test("the server does not answer an unpadded observe, nor register on the alt port", async () => {
  await using server = RendezvousServer.listen(LOCAL);
  using conn = udpSocket();
  await conn.send(encodeMessage({ type: "observe", clientId: bytes(16, 7) }), server.addr);
  const register = encodeMessage(
    { type: "register", role: "send", clientId: bytes(16, 1), candidates: [] },
    { padTo: MAX_REPLY_SIZE },
  );
  await conn.send(register, server.altAddr);
  // Both handled (counted) without a reply: no quiet period needed to see that none was sent.
  using timeout = deadline(5000);
  await until(() => server.stats().tooSmall + server.stats().malformed === 2, timeout.signal);
  const stats = server.stats();
  assertEquals([stats.tooSmall, stats.malformed, stats.replies, stats.rooms], [1, 1, 0, 0]);
});
