import assert from "node:assert/strict";
import { join } from "node:path";
import { receiveFiles, scanPaths, sendFiles } from "../../transfer/mod.ts";
import { randomBytes, sha256Hex, tempDir, withTimeout } from "../../transfer/_test_util.ts";
import { runPakeHandshake } from "../../pake/mod.ts";
import { certificatePem, createPeerCertificate, PEER_SERVER_NAME } from "../cert/mod.ts";
import type { PeerLink } from "../link/mod.ts";
import { listenTlsPeerNoDelay } from "./mod.ts";
import { NO_DELAY_ALPNS } from "./_wire.ts";
import { lanPair, relayPair } from "./_test_util.ts";

async function roundTrip(sender: PeerLink, receiver: PeerLink, size: number, signal: AbortSignal) {
  await using src = await tempDir();
  await using dst = await tempDir();
  const bytes = randomBytes(size, 11);
  const file = join(src.path, "big.bin");
  await Deno.writeFile(file, bytes);
  const [sent, received] = await Promise.all([
    sendFiles(await scanPaths([file]), { connection: sender, signal, streams: 4 }),
    receiveFiles({ connection: receiver, outDir: dst.path, signal }),
  ]);
  const expected = sha256Hex(bytes);
  assert.equal(sent.sha256, expected);
  assert.equal(received.sha256, expected);
  assert.equal(sha256Hex(await Deno.readFile(join(dst.path, "big.bin"))), expected);
  assert.equal(received.bytesTransferred, size);
}

Deno.test("sendFiles/receiveFiles move a 64 MiB file over a LAN TLS link, hash checked", async () => {
  await withTimeout(60_000, async (signal) => {
    await using pair = await lanPair(signal);
    await roundTrip(pair.sender, pair.receiver, 64 * 1024 * 1024, signal);
  });
});

Deno.test("sendFiles/receiveFiles move a file over a LAN TLS link served by node:tls, Nagle off", async () => {
  await withTimeout(60_000, async (signal) => {
    await using pair = await lanPair(signal, { noDelay: true });
    await roundTrip(pair.sender, pair.receiver, 8 * 1024 * 1024 + 5, signal);
  });
});

Deno.test("a Nagle-free LAN link announces the sender's streams past its first ones with OPEN", async () => {
  await withTimeout(60_000, async (signal) => {
    // 2 first streams (control and one data stream) where the transfer opens 4 data streams.
    await using pair = await lanPair(signal, { noDelay: true, firstStreams: 2 });
    await roundTrip(pair.sender, pair.receiver, 4 * 1024 * 1024 + 5, signal);
  });
});

Deno.test("sendFiles/receiveFiles move a file over a TLS link through a relay splice", async () => {
  await withTimeout(60_000, async (signal) => {
    await using pair = await relayPair(signal);
    await roundTrip(pair.sender, pair.receiver, 16 * 1024 * 1024 + 5, signal);
  });
});

Deno.test("a one-stream Nagle-free LAN link (p2pft-tls-nodelay/0) runs the transfer on the PAKE's stream", async () => {
  await withTimeout(60_000, async (signal) => {
    await using pair = await lanPair(signal, { noDelay: true, firstStreams: 1 });
    await using src = await tempDir();
    await using dst = await tempDir();
    const bytes = randomBytes(1024, 12);
    const file = join(src.path, "small.bin");
    await Deno.writeFile(file, bytes);
    const pake = {
      code: "lantern-crossword",
      nameplate: "7",
      channelBinding: pair.certificate.fingerprint,
      signal,
    };
    // As connect.ts: the receiver opens the link's first stream, the sender accepts it.
    const [receiverFirst, senderFirst] = await Promise.all([
      pair.receiver.openStream(),
      pair.sender.acceptStream(),
    ]);
    await Promise.all([
      runPakeHandshake(receiverFirst, { ...pake, role: "receiver" }),
      runPakeHandshake(senderFirst, { ...pake, role: "sender" }),
    ]);
    // The sender's first stream and the receiver's first accepted one are that same stream.
    const [sent, received] = await Promise.all([
      sendFiles(await scanPaths([file]), { connection: pair.sender, signal }),
      receiveFiles({ connection: pair.receiver, outDir: dst.path, signal }),
    ]);
    assert.equal(sent.sha256, sha256Hex(bytes));
    assert.equal(received.sha256, sha256Hex(bytes));
    assert.deepEqual(await Deno.readFile(join(dst.path, "small.bin")), bytes);
  });
});

Deno.test("a one-stream Nagle-free LAN sender gives a receiver that does not offer /0 the classic /1", async () => {
  await withTimeout(30_000, async (signal) => {
    const certificate = await createPeerCertificate();
    await using listener = await listenTlsPeerNoDelay(0, {
      certificate,
      hostname: "127.0.0.1",
      expectedRemoteIp: "127.0.0.1",
      firstStreams: 1,
      signal,
    });
    const accepting = listener.accept({ signal }).catch(() => undefined);
    const alpns = async (offered: string[]) => {
      const tcp = await Deno.connect({ hostname: "127.0.0.1", port: listener.port });
      using tls = await Deno.startTls(tcp, {
        hostname: PEER_SERVER_NAME,
        caCerts: [certificatePem(certificate.der)],
        alpnProtocols: offered,
      });
      return (await tls.handshake()).alpnProtocol;
    };
    // An older receiver offers /1 to /5 only; this one offers /0 too, and the sender prefers it.
    assert.equal(await alpns(NO_DELAY_ALPNS.slice(1)), "p2pft-tls-nodelay/1");
    assert.equal(await alpns([...NO_DELAY_ALPNS].reverse()), "p2pft-tls-nodelay/0");
    await listener[Symbol.asyncDispose]();
    await accepting;
  });
});

Deno.test("over p2pft-tls-nodelay/0 the sender's first stream is the receiver's first, and no more", async () => {
  await withTimeout(30_000, async (signal) => {
    await using pair = await lanPair(signal, { noDelay: true, firstStreams: 1 });
    const [receiverFirst, senderFirst] = await Promise.all([
      pair.receiver.openStream(),
      pair.sender.acceptStream(),
    ]);
    assert.equal(await pair.sender.openStream(), senderFirst);
    assert.equal(await pair.receiver.acceptStream(), receiverFirst);
    // Later streams are the link's own: the sender's stream 0, announced with OPEN.
    const [senderNext, receiverNext] = await Promise.all([
      pair.sender.openStream(),
      pair.receiver.acceptStream(),
    ]);
    assert.notEqual(senderNext, senderFirst);
    const writer = senderNext.writable.getWriter();
    await writer.write(new Uint8Array([7]));
    await writer.close();
    const reader = receiverNext.readable.getReader();
    assert.deepEqual((await reader.read()).value, new Uint8Array([7]));
    reader.releaseLock();
  });
});
