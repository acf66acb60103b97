import assert from "node:assert/strict";
import { join } from "node:path";
import { unholdableNames } from "./_path_safety.ts";
import { probeNameRules } from "./_name_rules.ts";
import { listTree, randomBytes, tempDir, transferPair, value, withDirs } from "./_test_util.ts";

const LINUX = { caseInsensitive: false, windows: false };
const MAC = { caseInsensitive: true, windows: false };
const WINDOWS = { caseInsensitive: true, windows: true };

Deno.test("unholdableNames keeps everything on a case-sensitive POSIX file system", () => {
  const paths = ["d", "d/Makefile", "d/makefile", "d/aux.c", "d/con.h", "d/x."];
  assert.deepEqual(unholdableNames(paths, LINUX), new Map());
});

Deno.test("unholdableNames skips the later names of a case group, and what is inside them", () => {
  const paths = ["d", "d/Makefile", "d/makefile", "D2", "d2", "d2/x", "e\u0301", "\u00e9"];
  assert.deepEqual(
    unholdableNames(paths, MAC),
    new Map([
      [2, 'same name as "d/Makefile" on this file system'],
      [4, 'same name as "D2" on this file system'],
      [5, 'inside "d2", which is not written'],
      [7, `same name as ${JSON.stringify("e\u0301")} on this file system`],
    ]),
  );
});

Deno.test("unholdableNames applies Windows rules only when asked", () => {
  const paths = [
    "aux.c",
    "con.h",
    "x.",
    "d ",
    "d /y",
    "a:b",
    "a\\b",
    "new\nline",
    "console.log",
    "COM10",
  ];
  assert.deepEqual(
    [...unholdableNames(paths, WINDOWS).keys()],
    [0, 1, 2, 3, 4, 5, 6, 7],
  );
  assert.match(unholdableNames(paths, WINDOWS).get(6)!, /contains a backslash/);
  assert.match(unholdableNames(paths, WINDOWS).get(0)!, /"aux\.c" is a reserved name on Windows/);
  assert.deepEqual(unholdableNames(paths, MAC), new Map());
});

Deno.test("probeNameRules finds this Linux temp dir case-sensitive and leaves nothing behind", async () => {
  await using out = await tempDir();
  assert.deepEqual(probeNameRules(join(out.path, "not", "yet")), LINUX);
  assert.deepEqual(await listTree(out.path), []);
});

Deno.test("a receiver that ignores case writes the rest and both sides report what it did not", async () => {
  await withDirs(10_000, async ({ signal, src, dst }) => {
    const tree = join(src, "d");
    await Deno.mkdir(join(tree, "Sub"), { recursive: true });
    await Deno.mkdir(join(tree, "sub"));
    await Deno.writeFile(join(tree, "Makefile"), randomBytes(10, 1));
    await Deno.writeFile(join(tree, "makefile"), randomBytes(20, 2));
    await Deno.writeFile(join(tree, "sub", "inner"), randomBytes(5, 3));
    await Deno.writeFile(join(tree, "aux.c"), randomBytes(5, 4));
    const { sent, received } = await transferPair([tree], dst, {
      signal,
      receive: { nameRules: WINDOWS },
    });
    assert.deepEqual(value(received).notWritten.map((entry) => entry.path), [
      "d/aux.c",
      "d/makefile",
      "d/sub",
      "d/sub/inner",
    ]);
    assert.deepEqual(value(sent).notWritten.map((entry) => entry.path), [
      "d/aux.c",
      "d/makefile",
      "d/sub/inner",
    ]);
    assert.equal(value(sent).sha256, value(received).sha256);
    assert.deepEqual((await listTree(dst)).map((entry) => entry.path), [
      "d",
      "d/Makefile",
      "d/Sub",
    ]);
  });
});

Deno.test("names of 241..255 bytes, a backslash, a newline and a tab arrive as they are on Linux", async () => {
  await withDirs(10_000, async ({ signal, src, dst }) => {
    const tree = join(src, "d");
    await Deno.mkdir(tree);
    const names = ["é".repeat(127) + "x", "z".repeat(241), "back\\slash", "new\nline", "tab\there"];
    for (const [index, name] of names.entries()) {
      await Deno.writeFile(join(tree, name), randomBytes(100 + index, index + 1));
    }
    const { received } = await transferPair([tree], dst, { signal });
    assert.deepEqual(value(received).notWritten, []);
    for (const [index, name] of names.entries()) {
      assert.deepEqual(
        await Deno.readFile(join(dst, "d", name)),
        randomBytes(100 + index, index + 1),
      );
    }
    assert.equal((await listTree(dst)).length, names.length + 1, "no partial left");
  });
});
