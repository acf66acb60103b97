import assert from "node:assert/strict";
import { join } from "node:path";
import { concatBytes, IntegrityError, TimeoutError, TransferRefusedError } from "../base/mod.ts";
import { memoryConnectionPair } from "./_testing_memory_connection.ts";
import { streamManifest } from "./_stdin_source.ts";
import { receiveFiles } from "./receive_files.ts";
import { sendFiles } from "./send_files.ts";
import { sendText } from "./send_text.ts";
import {
  flipDataByte,
  listTree,
  randomBytes,
  sha256Hex,
  tempDir,
  transferPair,
  withDirs,
  withTimeout,
} from "./_test_util.ts";
import type { Offer, ReceiveFilesOptions, TransferProgress } from "./types.ts";

/** A readable that yields `bytes` in chunks of `chunk` bytes. */
function chunked(bytes: Uint8Array, chunk: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunk));
      offset += chunk;
    },
  });
}

/** A writable that collects what it is given. */
function collector(): { sink: WritableStream<Uint8Array>; bytes: () => Uint8Array } {
  const parts: Uint8Array[] = [];
  return {
    sink: new WritableStream({ write: (part) => void parts.push(part.slice()) }),
    bytes: () => concatBytes(parts),
  };
}

Deno.test("sendText reaches the receiver's confirm and report; nothing is written", async () => {
  await withTimeout(10_000, async (signal) => {
    await using dst = await tempDir();
    const [a, b] = memoryConnectionPair();
    const text = "héllo\nwörld ✓";
    const offers: Offer[] = [];
    try {
      const [sent, received] = await Promise.all([
        sendText(text, { connection: a, signal }),
        receiveFiles({
          connection: b,
          outDir: dst.path,
          signal,
          confirm: (offer) => Promise.resolve(offers.push(offer) > 0),
        }),
      ]);
      assert.equal(received.text, text);
      assert.equal(sent.text, text);
      assert.equal(received.sha256, sent.sha256);
      assert.equal(received.files, 0);
      assert.equal(offers[0].text, text);
      assert.equal(offers[0].bytes, new TextEncoder().encode(text).length);
      assert.deepEqual(await listTree(dst.path), []);
    } finally {
      a.close();
    }
  });
});

Deno.test("a declined text fails both sides with TransferRefusedError", async () => {
  await withTimeout(10_000, async (signal) => {
    await using dst = await tempDir();
    const [a, b] = memoryConnectionPair();
    try {
      const [sent, received] = await Promise.allSettled([
        sendText("no thanks", { connection: a, signal }),
        receiveFiles({
          connection: b,
          outDir: dst.path,
          signal,
          confirm: () => Promise.resolve(false),
        }),
      ]);
      assert.ok(sent.status === "rejected" && sent.reason instanceof TransferRefusedError);
      assert.ok(received.status === "rejected" && received.reason instanceof TransferRefusedError);
    } finally {
      a.close();
    }
  });
});

Deno.test("a text nobody accepts fails the sender at acceptTimeoutMs", async () => {
  await withTimeout(10_000, async (signal) => {
    await using dst = await tempDir();
    const [a, b] = memoryConnectionPair();
    const receiverStop = new AbortController();
    let waiting = 0;
    try {
      const received = receiveFiles({
        connection: b,
        outDir: dst.path,
        signal: AbortSignal.any([signal, receiverStop.signal]),
        // The person never answers.
        confirm: () => new Promise<boolean>(() => {}),
      });
      await assert.rejects(
        sendText("anyone?", {
          connection: a,
          signal,
          acceptTimeoutMs: 200,
          onWaitingForAccept: () => waiting++,
        }),
        (error: Error) => error instanceof TimeoutError && /did not accept/.test(error.message),
      );
      // The receiver never said it asks a person (ASKING): no notice.
      assert.equal(waiting, 0);
      receiverStop.abort(new Error("the person walked away"));
      await assert.rejects(received, /walked away/);
    } finally {
      a.close();
    }
  });
});

Deno.test("sendText refuses a text over 64 KiB before opening a stream", async () => {
  const [a] = memoryConnectionPair();
  try {
    await assert.rejects(
      sendText("x".repeat(64 * 1024 + 1), { connection: a }),
      /65537 bytes, limit 65536/,
    );
  } finally {
    a.close();
  }
});

async function streamPair(
  bytes: Uint8Array,
  receive: Partial<ReceiveFilesOptions> & { outDir: string },
  signal: AbortSignal,
) {
  const [a, b] = memoryConnectionPair();
  const progress: TransferProgress[] = [];
  try {
    return await Promise.all([
      sendFiles(streamManifest("piped.tar", chunked(bytes, 70_000)), {
        connection: a,
        signal,
        onProgress: (p) => progress.push(p),
      }),
      receiveFiles({ connection: b, signal, ...receive }),
      Promise.resolve(progress),
    ]);
  } finally {
    a.close();
  }
}

Deno.test("a stream of unknown size arrives in a sink, whole and verified", async () => {
  await withTimeout(20_000, async (signal) => {
    await using dst = await tempDir();
    const bytes = randomBytes(5 * 1024 * 1024 + 3, 11);
    const out = collector();
    const offers: Offer[] = [];
    const [sent, received, progress] = await streamPair(bytes, {
      outDir: dst.path,
      sink: out.sink,
      confirm: (offer) => Promise.resolve(offers.push(offer) > 0),
    }, signal);
    assert.deepEqual(out.bytes(), bytes);
    assert.equal(sent.sha256, sha256Hex(bytes));
    assert.equal(received.sha256, sent.sha256);
    assert.equal(received.totalBytes, bytes.length);
    assert.equal(offers[0].unknownSize, true);
    assert.equal(offers[0].bytes, 0);
    assert.ok(progress.length > 0 && progress.every((p) => p.unknownSize && p.total === p.bytes));
    assert.deepEqual(await listTree(dst.path), []);
  });
});

Deno.test("a stream of unknown size is written to disk like a file, never resumed", async () => {
  await withTimeout(20_000, async (signal) => {
    await using dst = await tempDir();
    // A partial left by an earlier run is not a prefix to resume from.
    await Deno.writeFile(join(dst.path, "piped.tar.p2pft-partial"), randomBytes(1000, 3));
    const bytes = randomBytes(3 * 1024 * 1024, 12);
    const [sent] = await streamPair(bytes, { outDir: dst.path }, signal);
    assert.equal(sent.resumedFiles, 0);
    assert.deepEqual(await Deno.readFile(join(dst.path, "piped.tar")), bytes);
    assert.deepEqual((await listTree(dst.path)).map((entry) => entry.path), ["piped.tar"]);
  });
});

Deno.test("a stream of unknown size goes beside an existing file of its name, or is left out", async () => {
  await withTimeout(10_000, async (signal) => {
    await using dst = await tempDir();
    await Deno.writeTextFile(join(dst.path, "piped.tar"), "mine");
    const bytes = randomBytes(1000, 1);
    const [, beside] = await streamPair(bytes, { outDir: dst.path }, signal);
    assert.deepEqual(beside.renamed, [{ path: "piped.tar", as: "piped (1).tar" }]);
    assert.deepEqual(await Deno.readFile(join(dst.path, "piped (1).tar")), bytes);
    const [sent, kept] = await streamPair(bytes, { outDir: dst.path, onExisting: "skip" }, signal);
    assert.deepEqual(kept.notWritten.map((item) => item.path), ["piped.tar"]);
    assert.deepEqual(sent.notWritten.map((item) => item.path), ["piped.tar"]);
    assert.equal(await Deno.readTextFile(join(dst.path, "piped.tar")), "mine");
  });
});

Deno.test("a sink refuses an offer of several files", async () => {
  await withDirs(10_000, async ({ signal, src, dst }) => {
    await Deno.writeTextFile(join(src, "a.txt"), "a");
    await Deno.writeTextFile(join(src, "b.txt"), "b");
    const { sent, received } = await transferPair(
      [join(src, "a.txt"), join(src, "b.txt")],
      dst,
      { signal, receive: { sink: collector().sink } },
    );
    assert.ok(received.status === "rejected");
    assert.match(
      String(received.reason),
      /2 files and 0 folders: receive --stdout takes one file only/,
    );
    assert.ok(sent.status === "rejected" && sent.reason instanceof TransferRefusedError);
  });
});

Deno.test("a sink fails with IntegrityError when a byte changed in flight", async () => {
  await withTimeout(10_000, async (signal) => {
    await using dst = await tempDir();
    const [a, b] = memoryConnectionPair();
    const out = collector();
    try {
      const [sent, received] = await Promise.allSettled([
        sendFiles(streamManifest("x.bin", chunked(randomBytes(200_000, 5), 65_536)), {
          connection: flipDataByte(a, 5_000),
          signal,
        }),
        receiveFiles({ connection: b, outDir: dst.path, signal, sink: out.sink }),
      ]);
      assert.ok(received.status === "rejected" && received.reason instanceof IntegrityError);
      assert.ok(sent.status === "rejected" && sent.reason instanceof IntegrityError);
      assert.equal(out.bytes().length, 200_000);
    } finally {
      a.close();
    }
  });
});
