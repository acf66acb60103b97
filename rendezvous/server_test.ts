import { RendezvousError, TimeoutError } from "../errors.ts";
import { register } from "./client.ts";
import {
  decodeMessage,
  encodeMessage,
  MAX_REPLY_SIZE,
  type RendezvousMessage,
} from "./protocol.ts";
import { RendezvousServer } from "./server.ts";
import { UdpDatagramPort } from "./_testing_udp_port.ts";
import { addr, bytes } from "./_testing_samples.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "./_testing.ts";
import { cookieFor, deadline, exchange, pairThrough, udpSocket } from "./_testing_net.ts";

const LOCAL = { hostname: "127.0.0.1", port: 0 };

/** Sends `count` junk datagrams, yielding now and then so the server (same thread) drains them. */
async function sendJunk(conn: Deno.DatagramConn, to: Deno.NetAddr, count: number) {
  for (let i = 0; i < count; i++) {
    await conn.send(new Uint8Array(10), to);
    if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

Deno.test("a sender and a receiver pair and learn each other's info and the same token", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  const { sender, receiver, senderPort, receiverPort, announced } = await pairThrough(
    server,
    timeout.signal,
  );
  assertEquals(announced, ["1"]);
  assertEquals(sender.nameplate, "1");
  assertEquals(receiver.nameplate, "1");
  assertEquals(sender.token, receiver.token);
  assertEquals(sender.token.length, 16);
  assertEquals(sender.peer.id, receiver.selfId);
  assertEquals(receiver.peer.id, sender.selfId);
  assertEquals(sender.observed, senderPort.addr);
  assertEquals(receiver.observed, receiverPort.addr);
  assertEquals(sender.peer.observed, receiver.observed);
  assertEquals(receiver.peer.observed, sender.observed);
  assertEquals(receiver.peer.candidates, [addr("192.168.1.10", 40000), senderPort.addr]);
  assertEquals(sender.peer.candidates, [receiverPort.addr]);
  assertEquals(receiver.peer.fingerprint, bytes(32, 0xaa));
  assertEquals(sender.peer.fingerprint, bytes(32, 0xbb));
  const stats = server.stats();
  assertEquals([stats.pairings, stats.malformed, stats.errors], [1, 0, 0]);
  // No amplification: every reply is no longer than the shortest request.
  const requests = [...senderPort.sentSizes, ...receiverPort.sentSizes];
  const replies = [...senderPort.receivedSizes, ...receiverPort.receivedSizes];
  assert(replies.length >= 2 && requests.length >= 2);
  assert(Math.max(...replies) <= Math.min(...requests), `${replies} vs ${requests}`);
});

Deno.test("a sender may bring its own nameplate", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  const { sender, announced } = await pairThrough(server, timeout.signal, { nameplate: "4242" });
  assertEquals([sender.nameplate, announced], ["4242", ["4242"]]);
});

Deno.test("a receiver on a nameplate without a sender gets a clear RendezvousError", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  await using port = new UdpDatagramPort();
  await assertRejects(
    () =>
      register(port, {
        server: server.addr,
        role: "receive",
        nameplate: "7",
        candidates: [],
        signal: timeout.signal,
      }),
    RendezvousError,
    "No sender is waiting on nameplate 7 (check the code, or ask the sender for a new one)",
  );
});

Deno.test("a sender asking for a taken nameplate gets 'nameplate 7 is in use'", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  await using first = new UdpDatagramPort();
  await using second = new UdpDatagramPort();
  const waiting = new AbortController();
  const { promise: confirmed, resolve } = Promise.withResolvers<string>();
  const firstDone = register(first, {
    server: server.addr,
    role: "send",
    nameplate: "7",
    candidates: [],
    onNameplate: resolve,
    signal: AbortSignal.any([timeout.signal, waiting.signal]),
  });
  assertEquals(await confirmed, "7");
  await assertRejects(
    () =>
      register(second, {
        server: server.addr,
        role: "send",
        nameplate: "7",
        candidates: [],
        signal: timeout.signal,
      }),
    RendezvousError,
    "nameplate 7 is in use",
  );
  const reason = new Error("user gave up");
  waiting.abort(reason);
  assertEquals(await firstDone.catch((error) => error), reason);
});

Deno.test("a third party on a paired nameplate gets a clear RendezvousError", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  await pairThrough(server, timeout.signal, { nameplate: "7" });
  await using third = new UdpDatagramPort();
  await assertRejects(
    () =>
      register(third, {
        server: server.addr,
        role: "receive",
        nameplate: "7",
        candidates: [],
        signal: timeout.signal,
      }),
    RendezvousError,
    "Nameplate 7 already has a sender and a receiver",
  );
});

Deno.test("waiting for a peer ends with signal.reason and frees the sender's room", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  await using port = new UdpDatagramPort();
  const controller = new AbortController();
  let polls = 0;
  const fourPolls = Promise.withResolvers<void>();
  const counting = {
    send: (data: Uint8Array, to: Deno.NetAddr) => {
      if (decodeMessage(data).type === "register" && ++polls === 4) fourPolls.resolve();
      return port.send(data, to);
    },
    receive: (signal: AbortSignal) => port.receive(signal),
  };
  const done = register(counting, {
    server: server.addr,
    role: "send",
    candidates: [],
    signal: AbortSignal.any([controller.signal, timeout.signal]),
    onNameplate: () => {},
  });
  // Let it poll a few times (each poll is answered), then give up.
  await fourPolls.promise;
  assertEquals(server.stats().rooms, 1);
  const reason = new Error("Ctrl-C");
  controller.abort(reason);
  assertEquals(await done.catch((error) => error), reason);
  // The best-effort leave (with the socket's cookie) is sent before rejecting; an answer
  // on the same socket afterwards proves the server processed it (in order).
  await port.send(
    encodeMessage({ type: "observe", clientId: bytes(16, 1) }, { padTo: MAX_REPLY_SIZE }),
    server.addr,
  );
  // (Answers to the last polls may come first.)
  while (decodeMessage((await port.receive(timeout.signal)).data).type !== "cookie");
  assertEquals(server.stats().rooms, 0);
});

Deno.test("register gives up with TimeoutError when the server never answers", async () => {
  using timeout = deadline(5000);
  using silent = udpSocket();
  const silentAddr = silent.addr as Deno.NetAddr;
  await using port = new UdpDatagramPort();
  const started = performance.now();
  await assertRejects(
    () =>
      register(port, {
        server: silentAddr,
        role: "send",
        candidates: [],
        serverTimeoutMs: 700,
        signal: timeout.signal,
      }),
    TimeoutError,
    `No answer from rendezvous server 127.0.0.1:${silentAddr.port} after 0.7 s`,
  );
  const elapsed = performance.now() - started;
  assert(elapsed >= 650 && elapsed < 2000, `took ${elapsed} ms`);
  // It retransmitted with backoff: 300 ms, then 600 ms (cut short by the timeout).
  assertEquals(port.sentSizes.length, 2);
});

Deno.test("register retransmits until lost requests get through", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  await using port = new UdpDatagramPort();
  let dropped = 0;
  const lossy = {
    send: (data: Uint8Array, to: Deno.NetAddr) =>
      dropped++ < 2 ? Promise.resolve() : port.send(data, to),
    receive: (signal: AbortSignal) => port.receive(signal),
  };
  const { promise: confirmed, resolve } = Promise.withResolvers<string>();
  const stop = new AbortController();
  const done = register(lossy, {
    server: server.addr,
    role: "send",
    candidates: [],
    onNameplate: resolve,
    signal: AbortSignal.any([timeout.signal, stop.signal]),
  });
  assertEquals(await confirmed, "1");
  assertEquals(dropped >= 3, true);
  stop.abort(new Error("done"));
  await done.catch(() => {});
});

Deno.test("register rejects bad options with TypeError or RangeError", async () => {
  await using port = new UdpDatagramPort();
  const server = { transport: "udp", hostname: "127.0.0.1", port: 9 } as const;
  await assertRejects(
    () => register(port, { server, role: "receive", candidates: [] }),
    TypeError,
    "needs a nameplate",
  );
  await assertRejects(
    () => register(port, { server, role: "send", nameplate: "0", candidates: [] }),
    TypeError,
    "Invalid nameplate",
  );
  await assertRejects(
    () => register(port, { server, role: "send", candidates: [addr("::ffff:1.2.3.4", 5)] }),
    TypeError,
    "Invalid candidate",
  );
  await assertRejects(
    () => register(port, { server, role: "send", candidates: [], fingerprint: bytes(31, 0) }),
    RangeError,
    "fingerprint",
  );
  assertEquals(port.sentSizes.length, 0);
});

Deno.test("the server does not answer a request shorter than its reply", async () => {
  await using server = RendezvousServer.listen(LOCAL);
  using conn = udpSocket();
  const message: RendezvousMessage = {
    type: "register",
    role: "send",
    clientId: bytes(16, 1),
    candidates: [],
  };
  const short = encodeMessage(message); // valid but unpadded
  assert(short.length < MAX_REPLY_SIZE);
  await conn.send(short, server.addr);
  // The padded retry is answered; had the short one been answered, that reply would come first.
  const padded = encodeMessage(message, { padTo: MAX_REPLY_SIZE });
  const reply = await exchange(conn, padded, server.addr);
  assert(reply !== undefined);
  assert(reply.length <= padded.length);
  // The first answer to an unproven source is its cookie, and no room.
  assertEquals(decodeMessage(reply).type, "cookie");
  const stats = server.stats();
  assertEquals([stats.tooSmall, stats.replies, stats.rooms], [1, 1, 0]);
});

Deno.test("the server drops oversized, malformed and reply-typed datagrams and counts them", async () => {
  await using server = RendezvousServer.listen(LOCAL);
  using conn = udpSocket();
  await conn.send(new Uint8Array(1500).fill(0x50), server.addr);
  await conn.send(new TextEncoder().encode("P2RV\x03\x01\x02\x00\x10"), server.addr);
  await conn.send(new TextEncoder().encode("P2RV\x09\x01"), server.addr);
  await conn.send(
    encodeMessage({
      type: "waiting",
      clientId: bytes(16, 1),
      nameplate: "1",
      observed: addr("1.2.3.4", 5),
    }, {
      padTo: 400,
    }),
    server.addr,
  );
  const padded = encodeMessage(
    { type: "register", role: "receive", nameplate: "3", clientId: bytes(16, 1), candidates: [] },
    { padTo: MAX_REPLY_SIZE },
  );
  const reply = await exchange(conn, padded, server.addr);
  assertEquals(decodeMessage(reply!).type, "cookie");
  const stats = server.stats();
  assertEquals([stats.received, stats.malformed, stats.replies, stats.errors], [5, 4, 1, 0]);
});

Deno.test("junk costs a source nothing: a socket on the same IP is served after 200 junk datagrams", async () => {
  const limits = { ratePerSecond: 1, burst: 5, ipRatePerSecond: 1, ipBurst: 5 };
  await using server = RendezvousServer.listen({ ...LOCAL, ...limits });
  using noisy = udpSocket();
  using quiet = udpSocket();
  await sendJunk(noisy, server.addr, 200);
  const cookie = await cookieFor(quiet, server.addr);
  const padded = encodeMessage(
    {
      type: "register",
      role: "receive",
      nameplate: "3",
      clientId: bytes(16, 1),
      candidates: [],
      cookie,
    },
    { padTo: MAX_REPLY_SIZE },
  );
  const reply = await exchange(quiet, padded, server.addr);
  assertEquals(decodeMessage(reply!), {
    type: "error",
    clientId: bytes(16, 1),
    code: 1,
    nameplate: "3",
  });
  const stats = server.stats();
  assertEquals([stats.malformed, stats.rateLimited, stats.sources], [200, 0, 1]);
});

/** Sends `count` proven observes from `conn` and waits until the server has handled them. */
async function provenObserves(server: RendezvousServer, conn: Deno.DatagramConn, count: number) {
  const cookie = await cookieFor(conn, server.addr);
  const observe = encodeMessage({ type: "observe", clientId: bytes(16, 2), cookie }, {
    padTo: MAX_REPLY_SIZE,
  });
  const target = server.stats().received + count;
  for (let i = 0; i < count; i++) await conn.send(observe, server.addr);
  while (server.stats().received < target) await new Promise((resolve) => setTimeout(resolve, 5));
}

Deno.test("a proven source is held to its ip:port budget, and all ports of an IP to the IP budget", async () => {
  // Refill at 1/s: the few tokens that trickle in while the test runs stay within the slack.
  const limits = { ratePerSecond: 1, burst: 20, ipRatePerSecond: 1, ipBurst: 30 };
  await using server = RendezvousServer.listen({ ...LOCAL, ...limits });
  using a = udpSocket();
  using b = udpSocket();
  await provenObserves(server, a, 40);
  const afterA = server.stats().rateLimited;
  assert(afterA >= 18 && afterA <= 20, `a: ${afterA} limited of 40 (port burst 20)`);
  await provenObserves(server, b, 40);
  const afterB = server.stats().rateLimited - afterA;
  assert(afterB >= 28 && afterB <= 30, `b: ${afterB} limited of 40 (10 left of the IP's 30)`);
  assertEquals(server.stats().sources, 2);
});

Deno.test("with sourceKey ip-port every socket has its own per-IP budget too", async () => {
  const limits = { ratePerSecond: 1, burst: 20, ipRatePerSecond: 1, ipBurst: 30 };
  await using server = RendezvousServer.listen({ ...LOCAL, ...limits, sourceKey: "ip-port" });
  using a = udpSocket();
  using b = udpSocket();
  await provenObserves(server, a, 40);
  await provenObserves(server, b, 40);
  const limited = server.stats().rateLimited;
  assert(limited >= 36 && limited <= 40, `${limited} limited of 80 (20 + 20 admitted)`);
});

Deno.test("the server closes when its signal aborts", async () => {
  const controller = new AbortController();
  const server = RendezvousServer.listen({ ...LOCAL, signal: controller.signal });
  controller.abort();
  await server.close();
  // The port is free again.
  using again = udpSocket(server.addr.port);
  assertEquals((again.addr as Deno.NetAddr).port, server.addr.port);
});

Deno.test("a sender whose room outlives maxWaitMs learns it expired", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen({ ...LOCAL, maxWaitMs: 500 });
  await using port = new UdpDatagramPort();
  const announced: string[] = [];
  await assertRejects(
    () =>
      register(port, {
        server: server.addr,
        role: "send",
        candidates: [],
        onNameplate: (plate) => announced.push(plate),
        signal: timeout.signal,
      }),
    RendezvousError,
    "The room on nameplate 1 expired",
  );
  assertEquals(announced, ["1"]);
  assertEquals(server.stats().rooms, 0);
});

Deno.test("listen refuses a budget that is not a positive number, naming it", () => {
  for (const name of ["ipRatePerSecond", "cookieBurst"] as const) {
    assertThrows(() => RendezvousServer.listen({ ...LOCAL, [name]: 0 }), RangeError, name);
  }
  assertThrows(
    () => RendezvousServer.listen({ ...LOCAL, cookieSecret: new Uint8Array(8) }),
    RangeError,
    "cookie secret",
  );
});

Deno.test("a client pays one cookie round trip: its first observe has none, every later request echoes it", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  const { senderPort, receiverPort } = await pairThrough(server, timeout.signal);
  assertEquals(server.stats().cookies, 2); // one per client, on loopback no NAT in between
  for (const port of [senderPort, receiverPort]) {
    const [first, ...later] = port.sent.map((data) => decodeMessage(data));
    assertEquals([first.type, "cookie" in first], ["observe", false]);
    assert(later.length >= 3, `${later.length} requests after the first`);
    for (const message of later) assert("cookie" in message && message.cookie?.length === 16);
  }
});

Deno.test("the server pushes paired once to a sender waiting over UDP, no larger than its request", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  using conn = udpSocket();
  const clientId = bytes(16, 3);
  const cookie = await cookieFor(conn, server.addr);
  const request = encodeMessage(
    { type: "register", role: "send", clientId, candidates: [], cookie },
    { padTo: MAX_REPLY_SIZE },
  );
  const waiting = decodeMessage((await exchange(conn, request, server.addr))!);
  assert(waiting.type === "waiting");
  await using receiverPort = new UdpDatagramPort();
  const receiver = await register(receiverPort, {
    server: server.addr,
    role: "receive",
    nameplate: waiting.nameplate,
    candidates: [],
    signal: timeout.signal,
  });
  // The sender sent nothing since `waiting`: this paired was pushed.
  const received = conn.receive();
  received.catch(() => {}); // settled by closing conn if the deadline passes
  const [pushed] = await Promise.race([
    received,
    new Promise<never>((_, reject) =>
      timeout.signal.addEventListener("abort", () => reject(timeout.signal.reason))
    ),
  ]);
  assert(pushed.length <= request.length);
  const paired = decodeMessage(pushed);
  assert(paired.type === "paired");
  assertEquals(paired.token, receiver.token);
  assertEquals(paired.peer.id, receiver.selfId);
});
