import assert from "node:assert/strict";
import { join } from "node:path";
import { memoryConnectionPair } from "./_testing_memory_connection.ts";
import { INLINE_MAX_BYTES, SEGMENT_SIZE, segmentSizeFor, sendFiles } from "./send_files.ts";
import { streamsToOpen } from "./first_streams_mod.ts";
import { scanPaths } from "./scan_paths.ts";
import {
  listTree,
  randomBytes,
  sha256Hex,
  tempDir,
  transferPair,
  value,
  version4Receiver,
  withDirs,
} from "./_test_util.ts";
import type { OpenStreamOptions, StreamConnection } from "./types.ts";

Deno.test("sendFiles moves a single file with its bytes, hash and mode", async () => {
  await withDirs(10_000, async ({ signal, src, dst }) => {
    const bytes = randomBytes(3 * 1024 * 1024 + 12_345, 7);
    const file = join(src, "data.bin");
    await Deno.writeFile(file, bytes, { mode: 0o640 });
    await Deno.chmod(file, 0o640);
    const mtime = new Date("2020-01-02T03:04:05Z");
    await Deno.utime(file, mtime, mtime);
    const progress: number[] = [];
    const { sent, received } = await transferPair([file], dst, {
      signal,
      send: { onProgress: (p) => progress.push(p.bytes) },
    });
    const s = value(sent);
    const r = value(received);
    const out = await Deno.readFile(join(dst, "data.bin"));
    assert.deepEqual(out, bytes);
    assert.equal(s.sha256, sha256Hex(bytes));
    assert.equal(r.sha256, s.sha256);
    assert.equal(s.bytesTransferred, bytes.length);
    assert.equal(r.bytesTransferred, bytes.length);
    assert.equal(s.files, 1);
    assert.equal(r.totalBytes, bytes.length);
    const info = await Deno.stat(join(dst, "data.bin"));
    assert.equal(info.mode! & 0o777, 0o640);
    assert.equal(info.mtime?.getTime(), mtime.getTime());
    assert.equal(progress.at(-1), bytes.length);
    assert.deepEqual((await listTree(dst)).map((e) => e.path), ["data.bin"]);
  });
});

Deno.test("files keep their exact modes, whether the umask lets the receiver create them so or not", async () => {
  await withDirs(10_000, async ({ signal, src, dst }) => {
    // 0o640 and 0o600 are created with their mode (umask 022); 0o664 and 0o666 lose bits to the
    // umask and 0o444 and 0o400 deny their owner writing: those get a chmod before publishing.
    const modes = [0o640, 0o600, 0o664, 0o666, 0o444, 0o400];
    const root = join(src, "modes");
    await Deno.mkdir(root);
    for (const mode of modes) {
      const file = join(root, mode.toString(8));
      await Deno.writeFile(file, randomBytes(100, mode));
      await Deno.chmod(file, mode);
    }
    await transferPair([root], dst, { signal });
    for (const mode of modes) {
      const info = await Deno.stat(join(dst, "modes", mode.toString(8)));
      assert.equal((info.mode! & 0o777).toString(8), mode.toString(8));
    }
  });
});

Deno.test("sendFiles moves a 0-byte file", async () => {
  await withDirs(10_000, async ({ signal, src, dst }) => {
    const file = join(src, "empty");
    await Deno.writeFile(file, new Uint8Array(0));
    const { sent, received } = await transferPair([file], dst, { signal });
    assert.equal(value(sent).sha256, sha256Hex(new Uint8Array(0)));
    assert.equal(value(received).sha256, value(sent).sha256);
    assert.equal((await Deno.readFile(join(dst, "empty"))).length, 0);
  });
});

Deno.test("sendFiles reproduces a nested tree with empty dirs, modes, unicode and 1,000 small files", async () => {
  await withDirs(30_000, async ({ signal, src, dst }) => {
    const root = join(src, "tree");
    await Deno.mkdir(join(root, "empty", "deeper-empty"), { recursive: true });
    await Deno.mkdir(join(root, "many"), { recursive: true });
    await Deno.mkdir(join(root, "Ünïcödé ✓ dir"), { recursive: true });
    await Deno.writeFile(join(root, "Ünïcödé ✓ dir", "日本語 файл.txt"), randomBytes(5000, 3));
    await Deno.writeFile(join(root, "run.sh"), new TextEncoder().encode("#!/bin/sh\necho hi\n"));
    await Deno.chmod(join(root, "run.sh"), 0o755);
    await Deno.writeFile(join(root, "big.bin"), randomBytes(2 * 1024 * 1024 + 1, 9));
    for (let i = 0; i < 1000; i++) {
      await Deno.writeFile(
        join(root, "many", `f${String(i).padStart(4, "0")}.txt`),
        randomBytes(i % 97, i + 1),
      );
    }
    await Deno.symlink("run.sh", join(root, "link-to-run"));
    const { sent, received } = await transferPair([root], dst, {
      signal,
      send: { streams: 4 },
    });
    const s = value(sent);
    const r = value(received);
    // A symlink whose target stays inside the tree arrives as a symlink.
    assert.deepEqual((await scanPaths([root])).skipped, []);
    assert.equal(s.files, 1003);
    assert.equal(s.directories, 5);
    assert.equal(r.sha256, s.sha256);
    assert.equal(await Deno.readLink(join(dst, "tree", "link-to-run")), "run.sh");
    const expected = await listTree(src);
    const actual = await listTree(dst);
    assert.deepEqual(actual, expected);
    assert.equal(actual.find((e) => e.path === "tree/run.sh")?.mode, 0o755);
  });
});

Deno.test("sendFiles moves several inputs and reports the same digest on both sides", async () => {
  await withDirs(10_000, async ({ signal, src, dst }) => {
    await Deno.writeFile(join(src, "a.txt"), randomBytes(100, 1));
    await Deno.mkdir(join(src, "d"));
    await Deno.writeFile(join(src, "d", "b.txt"), randomBytes(200, 2));
    for (const streams of [1, 3]) {
      await using out = await tempDir();
      const { sent, received } = await transferPair(
        [join(src, "a.txt"), join(src, "d")],
        join(out.path, "new", "dir"),
        { signal, send: { streams } },
      );
      assert.equal(value(sent).sha256, value(received).sha256);
      assert.deepEqual(
        (await listTree(join(out.path, "new", "dir"))).map((e) => e.path),
        ["a.txt", "d", "d/b.txt"],
      );
    }
    assert.deepEqual(await listTree(dst), []);
  });
});

Deno.test("sendFiles follows a symlink named as input: its target arrives under the link's name", async () => {
  await withDirs(10_000, async ({ signal, src, dst }) => {
    const bytes = randomBytes(10, 1);
    await Deno.writeFile(join(src, "real"), bytes);
    await Deno.symlink("real", join(src, "link"));
    const { sent, received } = await transferPair([join(src, "link")], dst, { signal });
    assert.equal(value(received).files, 1);
    assert.equal(value(sent).sha256, value(received).sha256);
    assert.deepEqual(await Deno.readFile(join(dst, "link")), bytes);
  });
});

Deno.test("sendFiles rejects a stream count outside 1..16", async () => {
  const [a] = memoryConnectionPair();
  for (const streams of [0, 17, 1.5]) {
    const manifest = { entries: [], files: 0, directories: 0, links: 0, bytes: 0, skipped: [] };
    await assert.rejects(sendFiles(manifest, { connection: a, streams }), RangeError);
  }
});

/** The sender's connection, counting the writes of its control stream and the streams it opens. */
function countingControl(connection: StreamConnection) {
  const counts = { controlWrites: [] as number[], opened: 0 };
  return {
    counts,
    connection: {
      acceptStream: () => connection.acceptStream(),
      openStream: async (options?: OpenStreamOptions) => {
        const stream = await connection.openStream(options);
        // The first stream the sender opens is the control stream.
        if (counts.opened++ > 0) return stream;
        const writer = stream.writable.getWriter();
        return {
          readable: stream.readable,
          writable: new WritableStream<Uint8Array>({
            write: (chunk) => (counts.controlWrites.push(chunk.length), writer.write(chunk)),
            close: () => writer.close(),
            abort: (reason) => writer.abort(reason),
          }),
        };
      },
    } satisfies StreamConnection,
  };
}

Deno.test("a small transfer is two writes of the sender on its control stream and no data stream", async () => {
  await withDirs(10_000, async ({ signal, src, dst }) => {
    for (let index = 0; index < 3; index++) {
      await Deno.writeFile(join(src, `file-${index}.bin`), randomBytes(1000 + index, index + 1));
    }
    // On a TCP connection with Nagle's algorithm on, each write behind the first waits for the
    // peer's delayed ACK, and each stream of the TLS link is a connection with its handshake:
    // the offer, then DECISIONS, START, the data and its end (version 5: inline) in one write.
    let counting: ReturnType<typeof countingControl> | undefined;
    const { sent, received } = await transferPair([src], dst, {
      signal,
      wrapSender: (connection) => (counting = countingControl(connection)).connection,
    });
    assert.equal(value(received).files, 3);
    assert.equal(value(sent).files, 3);
    const { controlWrites, opened } = counting!.counts;
    assert.equal(controlWrites.length, 2, `control stream writes: ${controlWrites.join(", ")}`);
    assert.equal(opened, 1);
  });
});

Deno.test("a receiver of version 4 gets a small transfer on a data stream, DECISIONS with START in one write", async () => {
  await withDirs(10_000, async ({ signal, src, dst }) => {
    const bytes = randomBytes(1000, 9);
    await Deno.writeFile(join(src, "small.bin"), bytes);
    let counting: ReturnType<typeof countingControl> | undefined;
    const { sent, received } = await transferPair([join(src, "small.bin")], dst, {
      signal,
      wrapSender: (connection) =>
        (counting = countingControl(version4Receiver(connection))).connection,
    });
    assert.equal(value(received).sha256, sha256Hex(bytes));
    assert.equal(value(sent).sha256, sha256Hex(bytes));
    assert.deepEqual(await Deno.readFile(join(dst, "small.bin")), bytes);
    const { controlWrites, opened } = counting!.counts;
    assert.equal(controlWrites.length, 2, `control stream writes: ${controlWrites.join(", ")}`);
    assert.equal(opened, 2);
  });
});

Deno.test("segmentSizeFor: 1 MiB for big files and streams, a segment of ~256 files for small ones", () => {
  const manifest = (files: number, bytes: number, unknownSize = false) =>
    ({
      entries: unknownSize ? [{ unknownSize: true }] : [],
      files,
      bytes,
    }) as unknown as Parameters<typeof segmentSizeFor>[0];
  assert.equal(segmentSizeFor(manifest(1, 2 ** 30)), SEGMENT_SIZE);
  assert.equal(segmentSizeFor(manifest(1, 0, true)), SEGMENT_SIZE);
  assert.equal(segmentSizeFor(manifest(0, 0)), SEGMENT_SIZE);
  // 21,080 man pages of 1.7 KB on average: 512 KiB; 200,000 files of 16 bytes: the 16 KiB floor.
  assert.equal(segmentSizeFor(manifest(21_080, 36_677_562)), 512 * 1024);
  assert.equal(segmentSizeFor(manifest(200_000, 3_200_000)), 16 * 1024);
});

Deno.test("the sender hears that the receiver asks its user (ASKING), once, and not when it does not ask", async () => {
  await withDirs(10_000, async ({ signal, src, dst }) => {
    await Deno.writeFile(join(src, "a.bin"), randomBytes(10, 3));
    for (const asks of [true, false]) {
      let waiting = 0;
      const { sent, received } = await transferPair([join(src, "a.bin")], join(dst, `${asks}`), {
        signal,
        send: { onWaitingForAccept: () => waiting++ },
        receive: {
          confirm: (_offer, asking) => {
            if (asks) asking(), asking();
            return Promise.resolve(true);
          },
        },
      });
      assert.equal(value(sent).files, 1);
      assert.equal(value(received).files, 1);
      assert.equal(waiting, asks ? 1 : 0);
    }
  });
});

Deno.test("streamsToOpen: the control stream, plus a data stream per segment unless sent inline", () => {
  assert.equal(streamsToOpen({ bytes: 10, text: true }, 4), 1);
  assert.equal(streamsToOpen({ bytes: INLINE_MAX_BYTES, text: false }, 4), 1);
  assert.equal(streamsToOpen({ bytes: INLINE_MAX_BYTES + 1, text: false }, 4), 3);
  assert.equal(streamsToOpen({ bytes: 100 * SEGMENT_SIZE, text: false }, 4), 5);
});
