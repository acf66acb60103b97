import assert from "node:assert/strict";
import { type Outgoing, PunchState, type PunchStateOptions } from "./_punch_state.ts";
import { decodeProbe, encodeProbe } from "./probe.ts";

const TOKEN = new Uint8Array(16).fill(7);
const SENDER_ID = new Uint8Array(16).fill(1);
const RECEIVER_ID = new Uint8Array(16).fill(2);
const CERT = new Uint8Array(300).fill(9);

function addr(hostname: string, port: number): Deno.NetAddr {
  return { transport: "udp", hostname, port };
}

/**
 * Two state machines joined by a simulated network: `routes` maps the address
 * a datagram is sent to onto the address the other side sees it from (or
 * drops it), as NATs would.
 */
function simulate(
  sender: PunchState,
  receiver: PunchState,
  routes: {
    toReceiver: (to: Deno.NetAddr) => Deno.NetAddr | null;
    toSender: (to: Deno.NetAddr) => Deno.NetAddr | null;
  },
  latencyMs = 10,
  untilMs = 10_000,
): number {
  type Flight = { at: number; target: "sender" | "receiver"; data: Uint8Array; from: Deno.NetAddr };
  const flights: Flight[] = [];
  const route = (from: "sender" | "receiver", out: Outgoing[], now: number) => {
    for (const { data, to } of out) {
      const seenFrom = from === "sender" ? routes.toReceiver(to) : routes.toSender(to);
      if (seenFrom) {
        flights.push({
          at: now + latencyMs,
          target: from === "sender" ? "receiver" : "sender",
          data,
          from: seenFrom,
        });
      }
    }
  };
  for (let now = 0; now <= untilMs; now += 5) {
    route("sender", sender.tick(now), now);
    route("receiver", receiver.tick(now), now);
    for (const flight of flights.filter((f) => f.at <= now)) {
      flights.splice(flights.indexOf(flight), 1);
      const machine = flight.target === "sender" ? sender : receiver;
      route(flight.target, machine.receive(flight.data, flight.from, now), now);
    }
    if (sender.result && receiver.result) return now;
  }
  return Infinity;
}

function machines(
  senderCandidates: PunchStateOptions["candidates"],
  receiverCandidates: PunchStateOptions["candidates"],
) {
  const sender = new PunchState({
    role: "sender",
    token: TOKEN,
    selfId: SENDER_ID,
    peerId: RECEIVER_ID,
    candidates: senderCandidates,
    certificate: CERT,
  });
  const receiver = new PunchState({
    role: "receiver",
    token: TOKEN,
    selfId: RECEIVER_ID,
    peerId: SENDER_ID,
    candidates: receiverCandidates,
  });
  return { sender, receiver };
}

Deno.test("PunchState agrees on the public path between two cone NATs and hands over the certificate", () => {
  // Sender 192.168.1.10:5000 behind 203.0.113.1:5000; receiver 192.168.1.10:6000 behind 198.51.100.1:6000.
  const { sender, receiver } = machines(
    [{ addr: addr("198.51.100.1", 6000), source: "server" }, {
      addr: addr("192.168.1.10", 6000),
      source: "private",
    }],
    [{ addr: addr("203.0.113.1", 5000), source: "server" }, {
      addr: addr("192.168.1.10", 5000),
      source: "private",
    }],
  );
  const finishedAt = simulate(sender, receiver, {
    toReceiver: (to) => to.hostname === "198.51.100.1" ? addr("203.0.113.1", 5000) : null,
    toSender: (to) => to.hostname === "203.0.113.1" ? addr("198.51.100.1", 6000) : null,
  });
  assert.ok(finishedAt < 2000, `took ${finishedAt} ms`);
  assert.deepEqual(receiver.result?.remote, addr("203.0.113.1", 5000));
  assert.equal(receiver.result?.path, "direct");
  assert.deepEqual(receiver.result?.peerCertificate, CERT);
  assert.deepEqual(sender.result?.remote, addr("198.51.100.1", 6000));
  assert.equal(sender.result?.path, "direct");
  assert.ok(receiver.result!.rttMs >= 20 && receiver.result!.rttMs <= 30);
  assert.equal(receiver.result?.candidate, "server");
  assert.equal(receiver.result?.chosenBy, "self");
  assert.equal(sender.result?.chosenBy, "peer");
});

Deno.test("PunchState prefers the LAN path when the public one also answers (hairpinning)", () => {
  const { sender, receiver } = machines(
    [{ addr: addr("203.0.113.1", 6000), source: "server" }, {
      addr: addr("192.168.1.11", 6000),
      source: "private",
    }],
    [{ addr: addr("203.0.113.1", 5000), source: "server" }, {
      addr: addr("192.168.1.10", 5000),
      source: "private",
    }],
  );
  simulate(sender, receiver, {
    toReceiver: (to) =>
      to.hostname === "203.0.113.1" ? addr("203.0.113.1", 5000) : addr("192.168.1.10", 5000),
    toSender: (to) =>
      to.hostname === "203.0.113.1" ? addr("203.0.113.1", 6000) : addr("192.168.1.11", 6000),
  });
  assert.deepEqual(receiver.result?.remote, addr("192.168.1.10", 5000));
  assert.equal(receiver.result?.path, "lan");
  assert.equal(receiver.result?.candidate, "private");
  assert.equal(sender.result?.path, "lan");
});

Deno.test("PunchState ignores its own echo and another pairing's probes", () => {
  const { receiver } = machines([], [{ addr: addr("192.168.1.10", 5000), source: "private" }]);
  const echoed = receiver.tick(0)[0];
  assert.deepEqual(receiver.receive(echoed.data, echoed.to, 1), []);
  const stranger = encodeProbe({
    type: "probe",
    token: new Uint8Array(16),
    from: SENDER_ID,
    nonce: 1,
  });
  assert.deepEqual(receiver.receive(stranger, addr("192.168.1.10", 5000), 2), []);
  assert.deepEqual(receiver.receive(new Uint8Array([1, 2, 3]), addr("192.168.1.10", 5000), 3), []);
  assert.equal(receiver.answered.length, 0);
});

Deno.test("PunchState answers a probe from an unknown port and adds it as peer-reflexive", () => {
  const { receiver } = machines([], [{ addr: addr("203.0.113.1", 5000), source: "server" }]);
  const probe = encodeProbe({ type: "probe", token: TOKEN, from: SENDER_ID, nonce: 42 });
  const [answer] = receiver.receive(probe, addr("203.0.113.1", 40001), 0);
  assert.deepEqual(answer.to, addr("203.0.113.1", 40001));
  assert.equal(decodeProbe(answer.data).type, "ack");
  assert.equal(decodeProbe(answer.data).nonce, 42);
  assert.ok(
    receiver.candidates.some((c) => c.source === "peer-reflexive" && c.addr.port === 40001),
  );
  assert.match(receiver.describeFailure(), /endpoint-dependent/);
});

Deno.test("PunchState with relayOnly drops the peer's direct probes and answers only the relay", () => {
  const relay = addr("198.51.100.9", 9002);
  const receiver = new PunchState({
    role: "receiver",
    token: TOKEN,
    selfId: RECEIVER_ID,
    peerId: SENDER_ID,
    candidates: [],
    relay,
    relayOnly: true,
  });
  const probe = encodeProbe({ type: "probe", token: TOKEN, from: SENDER_ID, nonce: 42 });
  // A peer that probes directly (--no-relay) makes no direct path of a --relay-only side.
  assert.deepEqual(receiver.receive(probe, addr("192.168.1.10", 5000), 0), []);
  assert.equal(receiver.candidates.length, 0);
  assert.match(receiver.describeFailure(), /only the relay \(--relay-only\).*--no-relay/);
  const [answer] = receiver.receive(probe, relay, 0);
  assert.deepEqual(answer.to, relay);
  assert.equal(decodeProbe(answer.data).type, "ack");
});

Deno.test("PunchState never finishes when nothing answers", () => {
  const { sender, receiver } = machines(
    [{ addr: addr("198.51.100.1", 6000), source: "server" }],
    [{ addr: addr("203.0.113.1", 5000), source: "server" }],
  );
  assert.equal(
    simulate(sender, receiver, { toReceiver: () => null, toSender: () => null }, 10, 3000),
    Infinity,
  );
  assert.match(receiver.describeFailure(), /tried 203\.0\.113\.1:5000 \(server\); none answered/);
});

Deno.test("PunchState sends only low-TTL probes to public server candidates while it opens its mapping", () => {
  const state = new PunchState({
    role: "receiver",
    token: TOKEN,
    selfId: RECEIVER_ID,
    peerId: SENDER_ID,
    candidates: [
      { addr: addr("203.0.113.1", 5000), source: "server" },
      { addr: addr("192.168.1.10", 5000), source: "private" },
      // IPv6 has no NAT to steal a port: its probes go out whole from the start.
      { addr: addr("2001:db8::1", 5000), source: "server" },
    ],
    openMappingMs: 400,
  });
  const sent: Array<{ at: number; to: string; lowTtl: boolean }> = [];
  for (let now = 0; now <= 1000; now += 20) {
    for (const out of state.tick(now)) {
      sent.push({ at: now, to: out.to.hostname, lowTtl: out.lowTtl === true });
    }
  }
  const publicProbes = sent.filter((s) => s.to === "203.0.113.1");
  const opening = publicProbes.filter((s) => s.at < 400);
  assert.ok(opening.length >= 3 && opening.every((s) => s.lowTtl), JSON.stringify(opening));
  const after = publicProbes.filter((s) => s.at >= 400);
  assert.ok(after.length >= 3 && after.every((s) => !s.lowTtl), JSON.stringify(after));
  assert.ok(sent.filter((s) => s.to === "192.168.1.10").every((s) => !s.lowTtl));
  const ipv6 = sent.filter((s) => s.to === "2001:db8::1");
  assert.ok(ipv6.length >= 6 && ipv6.every((s) => !s.lowTtl), JSON.stringify(ipv6));
});

/**
 * Two cone NATs whose routers accept unsolicited packets on their own input: a packet that
 * reaches a router before its host sent anything toward that peer takes the host's public port,
 * so the host's later packets leave from port + 1 and nothing comes in on the stolen port.
 * Low-TTL packets open the sending side's mapping and are lost before the peer's router.
 */
function stealingNats(
  sender: PunchState,
  receiver: PunchState,
  options: { senderStartsAt: number },
  untilMs = 5000,
): number {
  const sides = {
    sender: { machine: sender, public: addr("203.0.113.1", 5000), opened: false, stolen: false },
    receiver: {
      machine: receiver,
      public: addr("198.51.100.1", 6000),
      opened: false,
      stolen: false,
    },
  };
  type Side = keyof typeof sides;
  const flights: Array<
    { at: number; target: Side; data: Uint8Array; port: number; from: Deno.NetAddr }
  > = [];
  const send = (from: Side, out: Outgoing[], now: number) => {
    const self = sides[from];
    for (const { data, to, lowTtl } of out) {
      if (!self.opened && !self.stolen) self.opened = true;
      if (lowTtl) continue;
      const target: Side = from === "sender" ? "receiver" : "sender";
      const port = self.public.port + (self.stolen ? 1 : 0);
      flights.push({ at: now + 10, target, data, port: to.port, from: { ...self.public, port } });
    }
  };
  for (let now = 0; now <= untilMs; now += 5) {
    if (now >= options.senderStartsAt) send("sender", sender.tick(now), now);
    send("receiver", receiver.tick(now), now);
    for (const flight of flights.filter((f) => f.at <= now)) {
      flights.splice(flights.indexOf(flight), 1);
      const side = sides[flight.target];
      if (!side.opened) side.stolen = true;
      if (side.stolen || flight.port !== side.public.port) continue;
      if (flight.target === "sender" && now < options.senderStartsAt) continue;
      send(flight.target, side.machine.receive(flight.data, flight.from, now), now);
    }
    if (sender.result && receiver.result) return now;
  }
  return Infinity;
}

Deno.test("PunchState connects two port-stealing cone NATs once both opened their mappings with low TTL", () => {
  const pair = (openMappingMs: number) => ({
    sender: new PunchState({
      role: "sender",
      token: TOKEN,
      selfId: SENDER_ID,
      peerId: RECEIVER_ID,
      candidates: [{ addr: addr("198.51.100.1", 6000), source: "server" }],
      certificate: CERT,
      openMappingMs,
    }),
    receiver: new PunchState({
      role: "receiver",
      token: TOKEN,
      selfId: RECEIVER_ID,
      peerId: SENDER_ID,
      candidates: [{ addr: addr("203.0.113.1", 5000), source: "server" }],
      openMappingMs,
    }),
  });
  // The receiver learns of the pairing 150 ms before the sender does (one register poll).
  const late = { senderStartsAt: 150 };
  const without = pair(0);
  assert.equal(stealingNats(without.sender, without.receiver, late), Infinity, "connected");
  const opened = pair(400);
  const finishedAt = stealingNats(opened.sender, opened.receiver, late);
  assert.ok(finishedAt < 1500, `took ${finishedAt} ms`);
  assert.equal(opened.receiver.result?.path, "direct");
  assert.equal(opened.sender.result?.path, "direct");
});

Deno.test("PunchState: the sender answers the first chosen three times and is done at once", () => {
  const peer = addr("192.168.1.11", 6000);
  const { sender } = machines([{ addr: peer, source: "private" }], []);
  sender.tick(0);
  const chosen = encodeProbe({ type: "chosen", token: TOKEN, from: RECEIVER_ID, nonce: 42 });
  const answers = sender.receive(chosen, peer, 5);
  assert.equal(answers.length, 3);
  for (const answer of answers) {
    assert.deepEqual(answer.to, peer);
    const ack = decodeProbe(answer.data);
    assert.equal(ack.type, "chosen-ack");
    assert.equal(ack.nonce, 42);
    assert.deepEqual(ack.certificate, CERT);
  }
  // Done: the port goes to QUIC now, so nothing more is sent or answered.
  assert.deepEqual(sender.result?.remote, peer);
  assert.equal(sender.result?.chosenBy, "peer");
  assert.deepEqual(sender.tick(10), []);
  assert.deepEqual(sender.receive(chosen, peer, 15), []);
});

Deno.test("PunchState: a receiver that acked the sender's probe on a LAN path sends chosen with the deciding ack", () => {
  const lan = addr("192.168.1.10", 5000);
  for (const probedFirst of [true, false]) {
    const { receiver } = machines([], [{ addr: lan, source: "private" }]);
    const [probe] = receiver.tick(0);
    if (probedFirst) {
      const senderProbe = encodeProbe({ type: "probe", token: TOKEN, from: SENDER_ID, nonce: 7 });
      assert.equal(decodeProbe(receiver.receive(senderProbe, lan, 2)[0].data).type, "ack");
    }
    const nonce = decodeProbe(probe.data).nonce;
    const ack = encodeProbe({ type: "ack", token: TOKEN, from: SENDER_ID, nonce });
    const out = receiver.receive(ack, lan, 4).map((one) => decodeProbe(one.data).type);
    // Without an ack of ours on its way the sender has no round trip yet: the next tick says it.
    assert.deepEqual(out, probedFirst ? ["chosen"] : []);
    assert.deepEqual(
      receiver.tick(20).map((one) => decodeProbe(one.data).type),
      probedFirst ? [] : ["chosen"],
    );
  }
});
