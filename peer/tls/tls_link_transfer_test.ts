import assert from "node:assert/strict";
import { join } from "node:path";
import { receiveFiles, scanPaths, sendFiles } from "../../transfer/mod.ts";
import { randomBytes, sha256Hex, tempDir, withTimeout } from "../../transfer/_test_util.ts";
import type { PeerLink } from "../link/mod.ts";
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
