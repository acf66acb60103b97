import assert from "node:assert/strict";
import { join } from "node:path";
import {
  ConnectionLostError,
  IntegrityError,
  ProtocolError,
  TransferRefusedError,
} from "../base/mod.ts";
import {
  flipDataByte,
  listTree,
  randomBytes,
  reason,
  transferPair,
  value,
  version4Receiver,
  withDirs,
} from "./_test_util.ts";

Deno.test("a byte flipped in flight is an IntegrityError on both sides and leaves no final file", async () => {
  await withDirs(10_000, async ({ signal, src, dst }) => {
    await Deno.writeFile(join(src, "data.bin"), randomBytes(3_000_000, 4));
    for (const streams of [1, 4]) {
      const { sent, received } = await transferPair([join(src, "data.bin")], dst, {
        signal,
        send: { streams },
        wrapSender: (connection) => flipDataByte(connection, 500_000),
      });
      for (const error of [reason(sent), reason(received)]) {
        assert.ok(error instanceof IntegrityError, String(error));
        assert.match(error.message, /data\.bin/);
      }
      assert.deepEqual(await listTree(dst), []);
    }
  });
});

Deno.test("a status byte the sender did not mean never publishes the file", async () => {
  await withDirs(10_000, async ({ signal, src, dst }) => {
    await Deno.writeFile(join(src, "data.bin"), randomBytes(100, 4));
    // On a data stream (a receiver of version 4: version 5 sends 100 bytes on the control stream):
    // DATA_HELLO frame (8 bytes), DATA header (5), 100 file bytes, then the status byte.
    const status = 8 + 5 + 100;
    // 0x40: unknown; 0x02: "changed, sent as read" without a re-send; 0x01: a re-send that never comes.
    for (const mask of [0x40, 0x02, 0x01]) {
      const { sent, received } = await transferPair([join(src, "data.bin")], dst, {
        signal,
        send: { streams: 1 },
        wrapSender: (connection) => flipDataByte(version4Receiver(connection), status, mask),
      });
      assert.ok(reason(received) instanceof ProtocolError, String(reason(received)));
      assert.ok(reason(sent) instanceof Error);
      assert.deepEqual(await listTree(dst), [], `mask ${mask}`);
    }
  });
});

Deno.test("a declined offer is a TransferRefusedError on both sides", async () => {
  await withDirs(10_000, async ({ signal, src, dst }) => {
    await Deno.mkdir(join(src, "d"));
    await Deno.writeFile(join(src, "d", "x"), randomBytes(10, 4));
    let offered: unknown;
    const { sent, received } = await transferPair([join(src, "d")], dst, {
      signal,
      receive: {
        confirm: (offer) => {
          offered = offer;
          return Promise.resolve(false);
        },
      },
    });
    assert.deepEqual(offered, {
      files: 1,
      directories: 1,
      bytes: 10,
      entries: [{ path: "d", size: 0, kind: "directory" }, { path: "d/x", size: 10, kind: "file" }],
      notSent: [],
      existing: [],
      onExisting: "rename",
      unholdable: [],
      resumes: [],
    });
    const words = {
      sent: "The receiver declined the offer",
      received: "The offer was declined",
    };
    for (const [side, error] of [["sent", reason(sent)], ["received", reason(received)]] as const) {
      assert.ok(error instanceof TransferRefusedError, String(error));
      assert.equal(error.message, words[side]);
    }
    assert.deepEqual(await listTree(dst), []);
  });
});

Deno.test("a sender aborted mid-way leaves the receiver with a lost connection, a partial kept and no final file; a rerun resumes", async () => {
  await withDirs(20_000, async ({ signal, src, dst }) => {
    // Larger than what the streams and the receiver's read-ahead hold (4 × ~4 MiB), so the
    // sender cannot have sent it all by the time the receiver has written 2 MiB.
    const size = 32 * 1024 * 1024;
    const bytes = randomBytes(size, 8);
    await Deno.writeFile(join(src, "data.bin"), bytes);
    const controller = new AbortController();
    const { sent, received } = await transferPair([join(src, "data.bin")], dst, {
      signal,
      send: { signal: AbortSignal.any([signal, controller.signal]) },
      // Abort the sender once the receiver has written some bytes (deterministic).
      receive: {
        onProgress: (p) => {
          if (p.bytes >= 2 * 1024 * 1024) controller.abort(new Error("user pressed Ctrl-C"));
        },
      },
    });
    assert.match(String(reason(sent)), /Ctrl-C/);
    // A cancellation sends no ERROR frame: the session's end says why.
    const error = reason(received);
    assert.ok(error instanceof ConnectionLostError, String(error));
    const listing = await listTree(dst);
    assert.deepEqual(listing.map((e) => e.path), ["data.bin.p2pft-partial"]);
    const kept = listing[0].size;
    assert.ok(kept > 0 && kept < size, `partial holds ${kept} bytes`);

    const again = await transferPair([join(src, "data.bin")], dst, { signal });
    assert.equal(value(again.sent).bytesTransferred, size - kept);
    assert.equal(value(again.received).resumedFiles, 1);
    assert.deepEqual(await Deno.readFile(join(dst, "data.bin")), bytes);
  });
});

Deno.test("a receiver aborted mid-way fails the sender with a lost connection", async () => {
  await withDirs(20_000, async ({ signal, src, dst }) => {
    await Deno.writeFile(join(src, "data.bin"), randomBytes(8 * 1024 * 1024, 8));
    const controller = new AbortController();
    const { sent, received } = await transferPair([join(src, "data.bin")], dst, {
      signal,
      receive: {
        signal: AbortSignal.any([signal, controller.signal]),
        onProgress: (p) => {
          if (p.bytes >= 2 * 1024 * 1024) controller.abort(new Error("receiver quit"));
        },
      },
    });
    assert.match(String(reason(received)), /receiver quit/);
    const error = reason(sent);
    assert.ok(error instanceof ConnectionLostError, String(error));
    assert.deepEqual((await listTree(dst)).map((e) => e.path), ["data.bin.p2pft-partial"]);
  });
});
