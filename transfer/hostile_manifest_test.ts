import assert from "node:assert/strict";
import { join } from "node:path";
import { ByteReader, concatBytes, ProtocolError, UnsafePathError } from "../base/mod.ts";
import {
  decodeError,
  encodeEntry,
  encodeFrame,
  encodeHello,
  encodeManifestEnd,
  ErrorCode,
  FrameType,
  type ManifestEntry,
  readFrame,
} from "./wire/mod.ts";
import { checkRelativePath } from "./_path_safety.ts";
import { memoryConnectionPair } from "./_testing_memory_connection.ts";
import { receiveFiles } from "./receive_files.ts";
import { listTree, reason, tempDir, transferPair, value, withTimeout } from "./_test_util.ts";
import { scanPaths } from "./scan_paths.ts";

function file(path: string, size = 1): ManifestEntry {
  return { kind: "file", path, size, mode: 0o644, mtimeMs: null };
}
function link(path: string, target: string): ManifestEntry {
  const size = new TextEncoder().encode(target).length;
  return { kind: "symlink", path, size, target, mode: 0o777, mtimeMs: null };
}
function dir(path: string): ManifestEntry {
  return { kind: "directory", path, size: 0, mode: 0o755, mtimeMs: null };
}

/** A malicious sender: hand-encoded manifest; returns the receiver's error and its ERROR frame. */
async function offerByHand(entries: ManifestEntry[], outDir: string, signal: AbortSignal) {
  const [a, b] = memoryConnectionPair();
  try {
    const receiving = receiveFiles({ connection: b, outDir, signal });
    const control = await a.openStream();
    const writer = control.writable.getWriter();
    const files = entries.filter((e) => e.kind === "file");
    const parts = entries.map(encodeEntry);
    const payload = concatBytes(parts);
    const hello = encodeHello({
      streams: 1,
      segmentSize: 1024 * 1024,
      entries: entries.length,
      files: files.length,
      directories: entries.length - files.length,
      totalBytes: files.reduce((n, f) => n + f.size, 0),
    });
    for (
      const frame of [
        encodeFrame(FrameType.HELLO, hello),
        encodeFrame(FrameType.ENTRIES, payload),
        encodeFrame(
          FrameType.MANIFEST_END,
          encodeManifestEnd({ entries: entries.length, skipped: 0 }),
        ),
      ]
    ) writer.write(frame).catch(() => {});
    const reader = new ByteReader(control.readable, { what: "test", signal });
    const frame = await readFrame(reader, { expect: [FrameType.ERROR], what: "receiver answer" });
    const error = await receiving.then(() => null, (e) => e);
    await reader.cancel();
    return { error, answer: decodeError(frame.payload) };
  } finally {
    a.close();
  }
}

const HOSTILE: Array<[string, ManifestEntry[]]> = [
  ["absolute path", [file("/etc/passwd")]],
  ["drive-letter path", [file("C:evil.txt")]],
  ["NUL", [file("a\u0000b")]],
  ["leading ..", [file("../escape.txt")]],
  ["inner ..", [dir("a"), file("a/../../escape.txt")]],
  ["trailing ..", [dir("a"), dir("a/..")]],
  ["leading .", [file("./x")]],
  ["inner .", [dir("a"), file("a/./x")]],
  ["lone .", [dir(".")]],
  ["empty segment", [dir("a"), file("a//x")]],
  ["trailing slash", [dir("a/")]],
  ["reserved partial suffix", [file("x.p2pft-partial")]],
  ["segment of 256 bytes", [file("x".repeat(256))]],
  ["duplicate", [file("same"), file("same")]],
  ["symlink leaving the tree", [dir("d"), link("d/l", "../../etc/passwd")]],
  ["absolute symlink", [dir("d"), link("d/l", "/etc/passwd")]],
  ["symlink climbing after a name", [dir("d"), dir("d/e"), link("d/e/l", "x/../../..")]],
  ["top-level symlink", [link("l", "x")]],
];

for (const [rule, entries] of HOSTILE) {
  Deno.test(`receiveFiles rejects a manifest with ${rule} before writing anything`, async () => {
    await withTimeout(5_000, async (signal) => {
      await using out = await tempDir();
      const { error, answer } = await offerByHand(entries, out.path, signal);
      assert.ok(error instanceof UnsafePathError, `expected UnsafePathError, got ${error}`);
      assert.equal(answer.code, ErrorCode.UNSAFE_PATH);
      assert.deepEqual(await listTree(out.path), []);
    });
  });
}

Deno.test("receiveFiles rejects a child listed before its directory", async () => {
  await withTimeout(5_000, async (signal) => {
    await using out = await tempDir();
    const { error } = await offerByHand([file("a/b")], out.path, signal);
    assert.ok(error instanceof ProtocolError);
    assert.deepEqual(await listTree(out.path), []);
  });
});

Deno.test("checkRelativePath accepts ordinary names", () => {
  for (
    const path of [
      "a",
      "a/b/c.txt",
      ".hidden",
      "a/.b",
      "con-fig",
      "console.log",
      "COM10",
      "x..y",
      "日本",
      // Ordinary on Linux and macOS: the receiver's file system decides (unholdableNames).
      "a\\b.txt",
      "a\nb",
      "tab\there",
      "a\u001b[31mred",
      "a\u0085b",
      "y".repeat(255),
    ]
  ) {
    checkRelativePath(path);
  }
});

Deno.test("receiveFiles never writes through a symlink inside outDir: the folder goes beside it", async () => {
  await withTimeout(5_000, async (signal) => {
    await using src = await tempDir();
    await using out = await tempDir();
    await using elsewhere = await tempDir();
    await Deno.mkdir(join(src.path, "link"));
    await Deno.writeFile(join(src.path, "link", "x.txt"), new Uint8Array([1, 2, 3]));
    await Deno.symlink(elsewhere.path, join(out.path, "link"));
    for (const file of ["x.txt", "link"]) {
      if (file === "x.txt") {
        await Deno.symlink(join(elsewhere.path, "target"), join(out.path, file));
      }
      const { received } = await transferPair(
        [join(src.path, file === "x.txt" ? "link/x.txt" : "link")],
        out.path,
        { signal },
      );
      assert.deepEqual(value(received).renamed, [{
        path: file,
        as: file === "x.txt" ? "x (1).txt" : "link (1)",
      }]);
    }
    assert.deepEqual(await listTree(elsewhere.path), []);
    assert.deepEqual(
      await Deno.readFile(join(out.path, "link (1)", "x.txt")),
      new Uint8Array([1, 2, 3]),
    );
  });
});

Deno.test("receiveFiles refuses a symlink at a file's partial name", async () => {
  await withTimeout(5_000, async (signal) => {
    await using src = await tempDir();
    await using elsewhere = await tempDir();
    await Deno.writeFile(join(src.path, "x.txt"), new Uint8Array([1, 2, 3]));
    for (const name of ["x.txt.p2pft-partial"]) {
      await using out = await tempDir();
      await Deno.symlink(join(elsewhere.path, "target"), join(out.path, name));
      const { sent, received } = await transferPair([join(src.path, "x.txt")], out.path, {
        signal,
      });
      assert.ok(reason(received) instanceof UnsafePathError, name);
      assert.match((reason(received) as Error).message, new RegExp(out.path));
      // The sender learns which name, not where the receiver keeps it.
      assert.match((reason(sent) as Error).message, new RegExp(name.replaceAll(".", "\\.")));
      assert.doesNotMatch((reason(sent) as Error).message, new RegExp(out.path));
      assert.deepEqual(await listTree(elsewhere.path), []);
    }
  });
});

Deno.test("scanPaths keeps case collisions (the receiver decides) and reports missing paths", async () => {
  await withTimeout(5_000, async () => {
    await using src = await tempDir();
    await Deno.mkdir(join(src.path, "d"));
    await Deno.writeFile(join(src.path, "d", "A.txt"), new Uint8Array(1));
    await Deno.writeFile(join(src.path, "d", "a.txt"), new Uint8Array(1));
    assert.deepEqual((await scanPaths([join(src.path, "d")])).entries.map((e) => e.path), [
      "d",
      "d/A.txt",
      "d/a.txt",
    ]);
    await assert.rejects(scanPaths([join(src.path, "missing")]), Deno.errors.NotFound);
    const ok = await scanPaths([join(src.path, "d", "A.txt")]);
    assert.deepEqual([ok.files, ok.directories, ok.bytes, ok.skipped], [1, 0, 1, []]);
  });
});
