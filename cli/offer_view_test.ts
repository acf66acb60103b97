import assert from "node:assert/strict";
import { type OfferedEntry, offerLines, offerView, shownName } from "./offer_view.ts";

Deno.test("offerView counts each top-level folder's files and bytes in one pass, bounded", () => {
  const entries: OfferedEntry[] = [
    { path: "a", kind: "directory", size: 0 },
    ...Array.from({ length: 150 }, (_, i) => ({ path: `a/${i}`, kind: "file" as const, size: 2 })),
    { path: "b.txt", kind: "file", size: 5 },
  ];
  const view = offerView(entries);
  assert.deepEqual(view.top, [
    { path: "a", kind: "directory", files: 150, bytes: 300 },
    { path: "b.txt", kind: "file", files: 1, bytes: 5 },
  ]);
  assert.equal(view.entries.length, 100);
  assert.equal(view.more, 52);
  assert.deepEqual(offerLines(view), [
    "  a/  150 files, 300 B",
    "  b.txt  5 B",
    "  first files: a/0 (2 B), a/1 (2 B), a/2 (2 B), a/3 (2 B), a/4 (2 B)",
  ]);
});

Deno.test("offerLines lists every entry of a small offer", () => {
  const view = offerView([
    { path: "d", kind: "directory", size: 0 },
    { path: "d/x", kind: "file", size: 1 },
  ]);
  assert.deepEqual(offerLines(view), ["  d/", "  d/x  1 B"]);
});

Deno.test("shownName escapes control characters, quotes and bidi overrides, not plain names", () => {
  assert.equal(shownName("Ünïcödé 文件.txt"), "Ünïcödé 文件.txt");
  assert.equal(shownName("a\nb\tc"), '"a\\nb\\tc"');
  assert.equal(shownName("x\u202egnp.exe"), '"x\\u202egnp.exe"');
  assert.equal(shownName("\u001b[31mred"), '"\\u001b[31mred"');
});

Deno.test("offerLines says before accepting what is not sent, what exists here and what is not written", () => {
  const view = offerView(
    [{ path: "d", kind: "directory", size: 0 }, { path: "d/a.txt", kind: "file", size: 1 }],
    [{ path: "d/pipe", kind: "fifo" }],
    {
      clashes: [
        { index: 1, path: "d/a.txt", as: "d/a (1).txt", sameSize: false },
        { index: 2, path: "d/b.txt", as: "d/b (1).txt", sameSize: true },
      ],
      onExisting: "rename",
      unholdable: [{ path: "d/aux.c", reason: '"aux.c" is a reserved name on Windows' }],
    },
  );
  assert.deepEqual(offerLines(view).slice(2), [
    "  not sent (the sender cannot): d/pipe (named pipe (FIFO))",
    "  already here, written beside them (identical files are skipped): d/a.txt -> d/a (1).txt, " +
    "d/b.txt -> d/b (1).txt if it differs",
    '  not written here: d/aux.c ("aux.c" is a reserved name on Windows)',
  ]);
  assert.deepEqual(view.existing, [
    { path: "d/a.txt", as: "d/a (1).txt" },
    { path: "d/b.txt", as: "d/b (1).txt", sameSize: true },
  ]);
});
