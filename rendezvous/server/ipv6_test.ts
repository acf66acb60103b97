/** The server on a dual-stack socket: IPv4 and IPv6 peers on real sockets (127.0.0.1 and ::1). */
import {
  connectRendezvousTcp,
  type DatagramPort,
  dialTcpRelay,
  type Pairing,
  register,
  relayHello,
  serverAnswers,
} from "../client/mod.ts";
import { CookieMinter, decodeMessage, encodeMessage, MAX_REPLY_SIZE } from "../wire/mod.ts";
import { RendezvousServer } from "./server.ts";
import { Admission } from "./_admission.ts";
import { bindServerSockets, bindSockets } from "../sockets/mod.ts";
import { sourceKey } from "./_source_key.ts";
import {
  addr,
  assert,
  assertEquals,
  assertThrows,
  bytes,
  deadline,
  exchange,
  nextOther,
  UdpDatagramPort,
} from "../testing/mod.ts";

/** Dual-stack: no hostname binds "::". */
const DUAL = { port: 0 };

function v4(server: RendezvousServer): Deno.NetAddr {
  return { transport: "udp", hostname: "127.0.0.1", port: server.addr.port };
}

function v6(server: RendezvousServer): Deno.NetAddr {
  return { transport: "udp", hostname: "::1", port: server.addr.port };
}

/** A sender on `senderPort` (to `senderServer`) and a receiver on `receiverPort` pair. */
async function pair(
  senderPort: DatagramPort,
  senderServer: Deno.NetAddr,
  receiverPort: DatagramPort,
  receiverServer: Deno.NetAddr,
  signal: AbortSignal,
): Promise<[Pairing, Pairing]> {
  const plate = Promise.withResolvers<string>();
  const sending = register(senderPort, {
    server: senderServer,
    role: "send",
    candidates: [addr("fd00::10", 40000), addr("192.168.1.10", 40000)],
    onNameplate: plate.resolve,
    signal,
  });
  const nameplate = await Promise.race([plate.promise, sending.then(() => plate.promise)]);
  return await Promise.all([
    sending,
    register(receiverPort, {
      server: receiverServer,
      role: "receive",
      nameplate,
      candidates: [],
      signal,
    }),
  ]);
}

Deno.test("serve without a host binds :: and reports it", async () => {
  await using server = RendezvousServer.listen(DUAL);
  assertEquals(server.addr.hostname, "::");
  assertEquals(server.relayAddr?.hostname, "::");
});

Deno.test("a sender over ::1 pairs with a receiver over 127.0.0.1; each sees the other's address in its family", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(DUAL);
  await using senderPort = new UdpDatagramPort("::1");
  await using receiverPort = new UdpDatagramPort("127.0.0.1");
  const [sender, receiver] = await pair(
    senderPort,
    v6(server),
    receiverPort,
    v4(server),
    timeout.signal,
  );
  assertEquals(sender.observed, addr("::1", senderPort.addr.port));
  // Not ::ffff:127.0.0.1: the dual-stack socket's view is normalized.
  assertEquals(receiver.observed, addr("127.0.0.1", receiverPort.addr.port));
  assertEquals(sender.peer.observed, receiver.observed);
  assertEquals(receiver.peer.observed, sender.observed);
  assertEquals(receiver.peer.candidates, [addr("fd00::10", 40000), addr("192.168.1.10", 40000)]);
  assertEquals(sender.token, receiver.token);
  // Each learns the relay at the server address it used, in its own family.
  assertEquals(sender.relay, { ...v6(server), port: server.relayAddr!.port });
  assertEquals(receiver.relay, { ...v4(server), port: server.relayAddr!.port });
  assertEquals(server.stats().sources, 2);
});

Deno.test("a sender registers over TCP on ::1 and pairs with a UDP receiver on 127.0.0.1", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(DUAL);
  await using senderPort = await connectRendezvousTcp(v6(server), { signal: timeout.signal });
  await using receiverPort = new UdpDatagramPort("127.0.0.1");
  const [sender, receiver] = await pair(
    senderPort,
    v6(server),
    receiverPort,
    v4(server),
    timeout.signal,
  );
  assertEquals(sender.observed.hostname, "::1");
  assertEquals(receiver.peer.observed.hostname, "::1");
  assertEquals(receiver.transport.peer, "tcp");
  assertEquals(sender.peer.observed, addr("127.0.0.1", receiverPort.addr.port));
});

Deno.test("the UDP relay forwards between an IPv6 peer and an IPv4 peer", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(DUAL);
  await using a = new UdpDatagramPort("::1", { keepOther: true });
  await using b = new UdpDatagramPort("127.0.0.1", { keepOther: true });
  const [pa, pb] = await pair(a, v6(server), b, v4(server), timeout.signal);
  const signal = timeout.signal;
  await Promise.all([
    relayHello(a, { relay: pa.relay!, token: pa.token, selfId: pa.selfId, signal }),
    relayHello(b, { relay: pb.relay!, token: pb.token, selfId: pb.selfId, signal }),
  ]);
  const there = crypto.getRandomValues(new Uint8Array(1200));
  await a.send(there, pa.relay!);
  const atB = await nextOther(b, 2000);
  assertEquals(atB?.data, there);
  assertEquals([atB?.from.hostname, atB?.from.port], [pb.relay!.hostname, pb.relay!.port]);
  const back = crypto.getRandomValues(new Uint8Array(700));
  await b.send(back, pb.relay!);
  const atA = await nextOther(a, 2000);
  assertEquals(atA?.data, back);
  assertEquals([atA?.from.hostname, atA?.from.port], [pa.relay!.hostname, pa.relay!.port]);
  assertEquals(server.stats().relayedBytes, 1900);
});

Deno.test("the TCP relay splices an IPv6 peer's connection to an IPv4 peer's", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(DUAL);
  await using a = new UdpDatagramPort("::1");
  await using b = new UdpDatagramPort("127.0.0.1");
  const [pa, pb] = await pair(a, v6(server), b, v4(server), timeout.signal);
  const relayPort = server.relayAddr!.port;
  const signal = timeout.signal;
  const [ca, cb] = await Promise.all([
    dialTcpRelay({ transport: "tcp", hostname: "::1", port: relayPort }, {
      token: pa.token,
      selfId: pa.selfId,
      channel: 0,
      signal,
    }),
    dialTcpRelay({ transport: "tcp", hostname: "127.0.0.1", port: relayPort }, {
      token: pb.token,
      selfId: pb.selfId,
      channel: 0,
      signal,
    }),
  ]);
  try {
    await ca.write(new TextEncoder().encode("over v6"));
    const buffer = new Uint8Array(64);
    const n = await cb.read(buffer);
    assertEquals(new TextDecoder().decode(buffer.subarray(0, n ?? 0)), "over v6");
    await cb.write(new TextEncoder().encode("over v4"));
    const m = await ca.read(buffer);
    assertEquals(new TextDecoder().decode(buffer.subarray(0, m ?? 0)), "over v4");
  } finally {
    ca.close();
    cb.close();
  }
});

Deno.test("an IPv6 source gets a cookie for its address, and only that address is served with it", async () => {
  await using server = RendezvousServer.listen(DUAL);
  const one = Deno.listenDatagram({ transport: "udp", hostname: "::1", port: 0 });
  const other = Deno.listenDatagram({ transport: "udp", hostname: "::1", port: 0 });
  try {
    const observe = (cookie?: Uint8Array) =>
      encodeMessage({ type: "observe", clientId: bytes(16, 7), cookie }, { padTo: MAX_REPLY_SIZE });
    const first = decodeMessage((await exchange(one, observe(), v6(server)))!);
    assert(first.type === "cookie", first.type);
    const answer = decodeMessage((await exchange(one, observe(first.cookie), v6(server)))!);
    assert(answer.type === "observation", answer.type);
    assertEquals(answer.observed, addr("::1", (one.addr as Deno.NetAddr).port));
    // The same cookie from another port of the same address proves nothing.
    const replayed = decodeMessage((await exchange(other, observe(first.cookie), v6(server)))!);
    assertEquals(replayed.type, "cookie");
  } finally {
    one.close();
    other.close();
  }
});

Deno.test("a cookie's MAC covers the family: an IPv6 source's cookie is not an IPv4 source's", () => {
  const minter = new CookieMinter({ secret: bytes(32, 1), now: () => 1_000_000 });
  const six = minter.mint(addr("2001:db8::1", 9000));
  assertEquals(minter.check(six, addr("2001:db8::1", 9000)), "current");
  assertEquals(minter.check(six, addr("2001:db8::2", 9000)), "invalid");
  assertEquals(minter.check(six, addr("2001:db8::1", 9001)), "invalid");
  assertEquals(
    minter.check(minter.mint(addr("32.1.13.184", 9000)), addr("2001:db8::1", 9000)),
    "invalid",
  );
});

Deno.test("per-source limits key an IPv6 source on its /64, an IPv4 source on its address", () => {
  assertEquals(sourceKey(addr("2001:db8:1:2:aaaa::1", 1), false), "2001:db8:1:2::/64");
  assertEquals(sourceKey(addr("2001:db8:1:2:ffff:ffff:ffff:ffff", 2), false), "2001:db8:1:2::/64");
  assertEquals(sourceKey(addr("2001:db8:1:3::1", 1), false), "2001:db8:1:3::/64");
  assertEquals(sourceKey(addr("::1", 1), false), "0:0:0:0::/64");
  assertEquals(sourceKey(addr("203.0.113.5", 1), false), "203.0.113.5");
  assertEquals(sourceKey(addr("2001:db8::1", 7), true), "2001:db8::1:7");
});

Deno.test("two addresses of one /64 share the per-IP budget; another /64 has its own", () => {
  const admission = new Admission({
    cookieSecret: bytes(32, 2),
    ratePerSecond: 100,
    burst: 100,
    ipRatePerSecond: 0.001,
    ipBurst: 2,
    cookieRatePerSecond: 100,
    cookieBurst: 100,
    maxSources: 100,
    ipKey: (from) => sourceKey(from, false),
    now: () => 0,
    wallClock: () => 1_000_000,
  });
  const proven = (from: Deno.NetAddr) => {
    const verdict = admission.admit(undefined, from, { answerable: true, tcp: false });
    assert(verdict.kind === "cookie");
    return admission.admit(verdict.cookie, from, { answerable: true, tcp: false }).kind;
  };
  assertEquals(proven(addr("2001:db8:0:1::a", 1000)), "admit");
  assertEquals(proven(addr("2001:db8:0:1:ffff::b", 2000)), "admit");
  // A third address in the same /64: the prefix's budget (burst 2) is spent.
  assertEquals(proven(addr("2001:db8:0:1::c", 3000)), "rateLimited");
  assertEquals(proven(addr("2001:db8:0:2::a", 1000)), "admit");
});

Deno.test("register moves on at once from a server in a family its socket cannot reach", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(DUAL);
  // An IPv4 socket cannot send to ::1 (EAFNOSUPPORT), an IPv6 one not to 127.0.0.1 (ENETUNREACH).
  await using onlyV4 = new UdpDatagramPort("127.0.0.1");
  await using onlyV6 = new UdpDatagramPort("::1");
  // Failing over on silence would take a minute: far past the test's deadline.
  const slow = { failoverMs: 60_000, serverTimeoutMs: 60_000 };
  const plate = Promise.withResolvers<string>();
  const sending = register(onlyV4, {
    server: v6(server),
    fallbacks: [v4(server)],
    ...slow,
    role: "send",
    candidates: [],
    onNameplate: plate.resolve,
    signal: timeout.signal,
  });
  const nameplate = await Promise.race([plate.promise, sending.then(() => plate.promise)]);
  const [sender, receiver] = await Promise.all([
    sending,
    register(onlyV6, {
      server: v4(server),
      fallbacks: [v6(server)],
      ...slow,
      role: "receive",
      nameplate,
      candidates: [],
      signal: timeout.signal,
    }),
  ]);
  assertEquals(sender.observed.hostname, "127.0.0.1");
  assertEquals(receiver.observed.hostname, "::1");
});

Deno.test("without --host, a host with no IPv6 binds 0.0.0.0 instead; a given host gets no fallback", () => {
  const tried: string[] = [];
  const noIpv6 = (hostname: string, ports: Parameters<typeof bindSockets>[1]) => {
    tried.push(hostname);
    if (hostname === "::") {
      throw Object.assign(new Error("Address family not supported by protocol (os error 97)"), {
        code: "EAFNOSUPPORT",
      });
    }
    return bindSockets("127.0.0.1", ports);
  };
  const ports = { port: 0, altPort: 0, relayPort: 0, relay: false, tcp: false };
  const sockets = bindServerSockets(undefined, { ...ports, bindAll: noIpv6 });
  sockets.main.close();
  sockets.alt.close();
  assertEquals(tried, ["::", "0.0.0.0"]);
  tried.length = 0;
  assertThrows(() => bindServerSockets("::", { ...ports, bindAll: noIpv6 }), Error, "os error 97");
  assertEquals(tried, ["::"]);
  const inUse = () => {
    throw Object.assign(new Deno.errors.AddrInUse("Address in use"), { code: "EADDRINUSE" });
  };
  assertThrows(
    () => bindServerSockets(undefined, { ...ports, bindAll: inUse }),
    Deno.errors.AddrInUse,
  );
});

Deno.test("serverAnswers asks an IPv6 server from a socket of its family", async () => {
  await using server = RendezvousServer.listen(DUAL);
  assert(await serverAnswers(v6(server), 2000));
  assert(await serverAnswers(v4(server), 2000));
});

Deno.test("--public-address takes an IPv6 address without brackets", async () => {
  await using server = RendezvousServer.listen({
    hostname: "::1",
    port: 0,
    publicAddress: "2001:db8::9",
  });
  assertEquals(server.addr.hostname, "::1");
  assertThrows(
    () => RendezvousServer.listen({ hostname: "::1", port: 0, publicAddress: "[2001:db8::9]" }),
    TypeError,
    "IPv6 address without brackets",
  );
});
