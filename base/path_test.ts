import assert from "node:assert/strict";
import { posix } from "node:path";
import { basename, dirname, join, relative, resolve, SEP } from "./path.ts";

const PATHS = [
  "",
  "/",
  "//",
  "///",
  ".",
  "..",
  "a",
  "a/",
  "a//",
  "/a",
  "/a/",
  "//a",
  "/a/b",
  "/a//b",
  "a/b/",
  "a/b//",
  "./a",
  "../a",
  "a/./b",
  "a/../b",
  "a/../../b",
  "/../a",
  "/a/..",
  "/a/../..",
  "a/..",
  "café/ünï",
  "x.txt",
  "/tmp/x.p2pft-partial",
  " a ",
  "a/ b/",
];

Deno.test("basename, dirname, join, relative and resolve give node:path's answers on POSIX", {
  ignore: Deno.build.os === "windows",
}, () => {
  assert.equal(SEP, posix.sep);
  for (const path of PATHS) {
    assert.equal(basename(path), posix.basename(path), `basename(${JSON.stringify(path)})`);
    assert.equal(dirname(path), posix.dirname(path), `dirname(${JSON.stringify(path)})`);
    assert.equal(resolve(path), posix.resolve(path), `resolve(${JSON.stringify(path)})`);
    for (const other of PATHS) {
      const parts = [path, other];
      assert.equal(join(...parts), posix.join(...parts), `join(${JSON.stringify(parts)})`);
      assert.equal(resolve(...parts), posix.resolve(...parts), `resolve(${JSON.stringify(parts)})`);
      assert.equal(
        relative(path, other),
        posix.relative(path, other),
        `relative(${JSON.stringify(parts)})`,
      );
    }
  }
  assert.equal(join(), posix.join());
  assert.equal(resolve(), posix.resolve());
});
