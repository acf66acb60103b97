import assert from "node:assert/strict";
import { ConnectionLostError } from "../../base/mod.ts";
import { createPeerCertificate } from "../cert/mod.ts";
import type { PeerLink } from "../link/mod.ts";
import { acceptPeer, dialPeer } from "./quic.ts";

/** A UDP port the system just handed out (QUIC binds it next, as after punching). */
function freePort(): number {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "::", port: 0 });
  try {
    return (socket.addr as Deno.NetAddr).port;
  } finally {
    socket.close();
  }
}

/** Both ends on loopback of one family (QUIC binds both families either way). */
async function linkPair(
  hostname = "127.0.0.1",
  lanes = 1,
): Promise<{ sender: PeerLink; receiver: PeerLink }> {
  const loopback = (port: number): Deno.NetAddr => ({ transport: "udp", hostname, port });
  const certificate = await createPeerCertificate();
  const senderPort = freePort();
  const receiverPort = freePort();
  const accepting = acceptPeer(senderPort, {
    certificate,
    expectedRemote: loopback(receiverPort),
    timeoutMs: 5_000,
  });
  const receiver = await dialPeer(receiverPort, loopback(senderPort), {
    peerCertificatePem: certificate.certPem,
    lanes,
    timeoutMs: 5_000,
  });
  return { sender: await accepting, receiver };
}

Deno.test("a QUIC link's end message reaches the peer's closed; the closing side's closed stays empty", async () => {
  const { sender, receiver } = await linkPair();
  try {
    assert.equal(sender.transport, "quic");
    await sender.close({ failed: true, message: "Interrupted" });
    assert.deepEqual(await receiver.closed, { failed: true, message: "Interrupted" });
    assert.equal(await sender.closed, undefined);
    await assert.rejects(receiver.acceptStream(), ConnectionLostError);
    await assert.rejects(receiver.openStream(), ConnectionLostError);
  } finally {
    await receiver.close({ failed: false, message: "done" });
    await sender.close({ failed: false, message: "done" });
  }
});

Deno.test("a QUIC link carries streams both ways and a finished end reads as not failed", async () => {
  const { sender, receiver } = await linkPair();
  try {
    const opened = await receiver.openStream();
    const writer = opened.writable.getWriter();
    await writer.write(new Uint8Array([1, 2, 3]));
    const accepted = await sender.acceptStream();
    const reader = accepted.readable.getReader();
    assert.deepEqual((await reader.read()).value, new Uint8Array([1, 2, 3]));
    reader.releaseLock();
    writer.releaseLock();
    await receiver[Symbol.asyncDispose]();
    assert.deepEqual(await sender.closed, { failed: false, message: "done" });
  } finally {
    await sender.close({ failed: false, message: "done" });
  }
});

Deno.test("a QUIC link over IPv6 loopback accepts the expected [::1] remote and carries a stream", async () => {
  const { sender, receiver } = await linkPair("::1");
  try {
    const opened = await receiver.openStream();
    const writer = opened.writable.getWriter();
    await writer.write(new Uint8Array([4, 5, 6]));
    const accepted = await sender.acceptStream();
    const reader = accepted.readable.getReader();
    assert.deepEqual((await reader.read()).value, new Uint8Array([4, 5, 6]));
    reader.releaseLock();
    writer.releaseLock();
  } finally {
    await receiver.close({ failed: false, message: "done" });
    await sender.close({ failed: false, message: "done" });
  }
});

Deno.test("a QUIC link with lanes carries data streams from the sender and ends cleanly", async () => {
  const { sender, receiver } = await linkPair("127.0.0.1", 4);
  try {
    const key = new Uint8Array(32).fill(9);
    receiver.useLanes!(key);
    sender.useLanes!(key);
    const sent = [10, 11, 12, 13, 14, 15];
    for (const byte of sent) {
      const stream = await sender.openStream({ data: true });
      const writer = stream.writable.getWriter();
      await writer.write(new Uint8Array([byte]));
      await writer.close();
    }
    const got: number[] = [];
    for (let i = 0; i < sent.length; i++) {
      const stream = await receiver.acceptStream();
      for await (const chunk of stream.readable) got.push(...chunk);
      await stream.writable.close();
    }
    assert.deepEqual(got.sort(), sent);
    await sender.close({ failed: false, message: "done" });
    assert.deepEqual(await receiver.closed, { failed: false, message: "done" });
  } finally {
    await receiver.close({ failed: false, message: "done" });
    await sender.close({ failed: false, message: "done" });
  }
});
