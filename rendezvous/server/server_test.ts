import { RendezvousError } from "../../base/mod.ts";
import { register } from "../client/mod.ts";
import {
  decodeMessage,
  encodeMessage,
  MAX_REPLY_SIZE,
  type RegisterMessage,
  type RendezvousMessage,
} from "../wire/mod.ts";
import { RendezvousServer } from "./server.ts";
import {
  addr,
  assert,
  assertEquals,
  assertRegisterRefused,
  assertRejects,
  bytes,
  cookieFor,
  deadline,
  exchange,
  joinAsReceiver,
  joinAsSender,
  pairThrough,
  UdpDatagramPort,
  udpSocket,
} from "../testing/mod.ts";

const LOCAL = { hostname: "127.0.0.1", port: 0 };

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
  // No amplification: every reply is no longer than the shortest request answered (all but
  // the two `leave`s, which get no answer).
  const requests = [...senderPort.sentSizes, ...receiverPort.sentSizes]
    .filter((size) => size >= MAX_REPLY_SIZE);
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
  await assertRegisterRefused(
    server.addr,
    { role: "receive", nameplate: "7", signal: timeout.signal },
    "No sender is waiting on nameplate 7 (check the code, or ask the sender for a new one)",
  );
});

Deno.test("a sender asking for a taken nameplate gets 'nameplate 7 is in use'", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  await using first = new UdpDatagramPort();
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
  await assertRegisterRefused(
    server.addr,
    { role: "send", nameplate: "7", signal: timeout.signal },
    "nameplate 7 is in use",
  );
  const reason = new Error("user gave up");
  waiting.abort(reason);
  assertEquals(await firstDone.catch((error) => error), reason);
});

Deno.test("once both peers have their answers the nameplate takes a new sender at once", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  const first = await pairThrough(server, timeout.signal, { nameplate: "7" });
  // Both left on pairing: no 30 s linger holds the code, and the old token still reaches the relay.
  const second = await pairThrough(server, timeout.signal, { nameplate: "7" });
  assertEquals([first.sender.nameplate, second.sender.nameplate], ["7", "7"]);
  assertEquals(server.stats().pairings, 2);
});

Deno.test("a source whose finished transfers fill its share of lingering rooms is told so", async () => {
  using timeout = deadline(5000);
  // One open room per source: its share of rooms both peers left (in their linger) is 4.
  await using server = RendezvousServer.listen({ ...LOCAL, maxRoomsPerSource: 1 });
  for (let transfer = 1; transfer <= 4; transfer++) await pairThrough(server, timeout.signal);
  await assertRegisterRefused(
    server.addr,
    { role: "send", signal: timeout.signal },
    "too many transfers from your address in the last 30 s (at most 4); try again shortly",
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

Deno.test("the server pushes paired once to a sender waiting over UDP, no larger than its request", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  using conn = udpSocket();
  const [request, waiting] = await registerFrom(conn, server.addr, {
    role: "send",
    clientId: bytes(16, 3),
    candidates: [],
  });
  assert(waiting.type === "waiting");
  const receiver = await joinAsReceiver(server.addr, waiting.nameplate, timeout.signal);
  // The sender sent nothing since `waiting`: this paired was pushed.
  const pushed = await nextDatagram(conn, timeout.signal);
  assert(pushed.length <= request.length);
  const paired = decodeMessage(pushed);
  assert(paired.type === "paired");
  assertEquals(paired.token, receiver.token);
  assertEquals(paired.peer.id, receiver.selfId);
});

Deno.test("a receiver that waits for its sender is pushed paired when the sender comes", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  using conn = udpSocket();
  const clientId = bytes(16, 4);
  const [request, noSender] = await registerFrom(conn, server.addr, {
    role: "receive",
    clientId,
    nameplate: "7",
    candidates: [],
    waitsForSender: true,
  });
  assert(noSender.type === "error" && noSender.code === 1);
  const sender = await joinAsSender(server.addr, "7", timeout.signal);
  // The receiver sent nothing since its error: this paired was pushed.
  const pushed = await nextDatagram(conn, timeout.signal);
  assert(pushed.length <= request.length);
  const paired = decodeMessage(pushed);
  assert(paired.type === "paired");
  assertEquals([paired.token, paired.peer.id], [sender.token, sender.selfId]);
  assertEquals(sender.peer.id, clientId);
});

Deno.test("a waiting receiver that left, or never said it waits, is not paired for it", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  using conn = udpSocket();
  const cookie = await cookieFor(conn, server.addr);
  const ask: Omit<RegisterMessage, "clientId"> = {
    type: "register",
    role: "receive",
    candidates: [],
    cookie,
    nameplate: "7",
  };
  const padTo = { padTo: MAX_REPLY_SIZE };
  const gone = bytes(16, 5);
  await exchange(
    conn,
    encodeMessage({ ...ask, clientId: gone, waitsForSender: true }, padTo),
    server.addr,
  );
  await conn.send(
    encodeMessage({ type: "leave", clientId: gone, nameplate: "7", cookie }),
    server.addr,
  );
  await exchange(conn, encodeMessage({ ...ask, clientId: bytes(16, 6) }, padTo), server.addr);
  const waiting = Promise.withResolvers<string>();
  const stop = new AbortController();
  await using senderPort = new UdpDatagramPort();
  const sender = register(senderPort, {
    server: server.addr,
    role: "send",
    nameplate: "7",
    candidates: [],
    onNameplate: waiting.resolve,
    signal: AbortSignal.any([timeout.signal, stop.signal]),
  });
  assertEquals(await waiting.promise, "7");
  // A receiver asking now still pairs: the room waits for whoever asks, as before.
  const receiver = await joinAsReceiver(server.addr, "7", timeout.signal);
  assert(receiver.peer.id.length === 16);
  assertEquals((await sender).peer.id, receiver.selfId);
  assertEquals(server.stats().pushed, 1);
});

/** Registers from `conn` with its cookie, padded as clients do: the request and the answer. */
async function registerFrom(
  conn: Deno.DatagramConn,
  server: Deno.NetAddr,
  ask: Omit<RegisterMessage, "type" | "cookie">,
): Promise<[Uint8Array, RendezvousMessage]> {
  const cookie = await cookieFor(conn, server);
  const request = encodeMessage({ type: "register", ...ask, cookie }, { padTo: MAX_REPLY_SIZE });
  return [request, decodeMessage((await exchange(conn, request, server))!)];
}

/** The next datagram at `conn` (the server pushed it: nothing was asked). */
async function nextDatagram(conn: Deno.DatagramConn, signal: AbortSignal): Promise<Uint8Array> {
  const received = conn.receive();
  received.catch(() => {}); // settled by closing conn if the deadline passes
  const [data] = await Promise.race([
    received,
    new Promise<never>((_, reject) =>
      signal.addEventListener("abort", () => reject(signal.reason))
    ),
  ]);
  return data;
}
