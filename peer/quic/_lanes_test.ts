import assert from "node:assert/strict";
import { createPeerCertificate, PEER_SERVER_NAME } from "../cert/mod.ts";
import { StreamInbox } from "./_inbox.ts";
import { laneProof } from "./_lane_hello.ts";
import { ReceiverLanes, SenderLanes } from "./_lanes.ts";

const ALPN = ["p2pft/2"];

/** A first connection between two loopback endpoints, and a way to dial more like it. */
async function endpoints() {
  const certificate = await createPeerCertificate();
  const senderEnd = new Deno.QuicEndpoint({ hostname: "127.0.0.1", port: 0 });
  const receiverEnd = new Deno.QuicEndpoint({ hostname: "127.0.0.1", port: 0 });
  const listener = senderEnd.listen({
    alpnProtocols: ALPN,
    cert: certificate.certPem,
    key: certificate.keyPem,
  });
  const dial = async () => {
    const conn = await Deno.connectQuic({
      endpoint: receiverEnd,
      hostname: "127.0.0.1",
      port: senderEnd.addr.port,
      serverName: PEER_SERVER_NAME,
      alpnProtocols: ALPN,
      caCerts: [certificate.certPem],
    });
    await conn.handshake;
    return conn;
  };
  const [first] = await Promise.all([listener.accept(), dial()]);
  const receiverAddr: Deno.NetAddr = receiverEnd.addr;
  return {
    listener,
    dial,
    receiverAddr,
    first,
    async close() {
      first.close();
      senderEnd.close();
      receiverEnd.close();
      await first.closed.catch(() => {});
    },
  };
}

/** Resolves with the lanes once `count` joined (their `onLane` event). */
function joined(lanes: SenderLanes | ReceiverLanes, count: number): Promise<Deno.QuicConn[]> {
  const seen: Deno.QuicConn[] = [];
  const { promise, resolve } = Promise.withResolvers<Deno.QuicConn[]>();
  lanes.onLane((conn) => {
    seen.push(conn);
    if (seen.length === count) resolve(seen);
  });
  return promise;
}

Deno.test("lanes with the session's proof join, and streams opened on them reach the receiver's inbox", async () => {
  const net = await endpoints();
  const sender = new SenderLanes(net.listener, net.receiverAddr);
  const receiver = new ReceiverLanes(3, net.dial);
  const inbox = new StreamInbox(net.first);
  receiver.onLane((lane) => inbox.add(lane));
  try {
    const proof = laneProof(new Uint8Array(32).fill(7));
    receiver.admit(proof);
    sender.admit(proof);
    const lanes = await joined(sender, 3);
    assert.equal(sender.ready.length, 3);
    for (const [index, lane] of lanes.entries()) {
      const stream = await lane.createBidirectionalStream();
      const writer = stream.writable.getWriter();
      await writer.write(new Uint8Array([index]));
      await writer.close();
    }
    const got: number[] = [];
    for (let i = 0; i < lanes.length; i++) {
      const { value } = await inbox.next();
      for await (const chunk of value!.readable) got.push(...chunk);
      await value!.writable.close();
    }
    assert.deepEqual(got.sort(), [0, 1, 2]);
  } finally {
    sender.close();
    receiver.close();
    inbox.release();
    await net.close();
    await Promise.all([sender.settled, receiver.settled]);
  }
});

Deno.test("a lane without the session's proof is refused and never carries data", async () => {
  const net = await endpoints();
  const sender = new SenderLanes(net.listener, net.receiverAddr);
  const receiver = new ReceiverLanes(1, net.dial);
  try {
    receiver.admit(laneProof(new Uint8Array(32).fill(1)));
    sender.admit(laneProof(new Uint8Array(32).fill(2)));
    const [lane] = await joined(receiver, 1);
    const info = await lane.closed;
    assert.equal(info.closeCode, 2);
    assert.match(info.reason, /not a lane of this session/);
    assert.equal(sender.ready.length, 0);
  } finally {
    sender.close();
    receiver.close();
    await net.close();
    await Promise.all([sender.settled, receiver.settled]);
  }
});
