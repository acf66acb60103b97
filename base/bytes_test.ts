import * as assert from "node:assert/strict";
import {
  concatBytes,
  equalBytes,
  formatBytes,
  formatBytesAtLeast,
  fromHex,
  toHex,
  utf8Length,
} from "./bytes.ts";

Deno.test("concatBytes puts the parts one after another, empty ones included", () => {
  const joined = concatBytes([Uint8Array.of(1, 2), new Uint8Array(0), Uint8Array.of(3)]);
  assert.deepEqual(joined, Uint8Array.of(1, 2, 3));
  assert.deepEqual(concatBytes([]), new Uint8Array(0));
});

Deno.test("concatBytes copies: changing a part later leaves the result alone", () => {
  const part = Uint8Array.of(7, 8);
  const joined = concatBytes([part, part]);
  part[0] = 0;
  assert.deepEqual(joined, Uint8Array.of(7, 8, 7, 8));
});

Deno.test("toHex and fromHex round-trip; equalBytes tells equal from different", () => {
  const bytes = Uint8Array.of(0, 15, 16, 255);
  assert.equal(toHex(bytes), "000f10ff");
  assert.deepEqual(fromHex("000f10ff"), bytes);
  assert.deepEqual(fromHex("0A0bFf"), Uint8Array.of(10, 11, 255));
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.deepEqual(fromHex(toHex(all)), all);
  assert.ok(equalBytes(bytes, fromHex(toHex(bytes))));
  assert.ok(!equalBytes(bytes, Uint8Array.of(0, 15, 16, 254)));
  assert.ok(!equalBytes(bytes, Uint8Array.of(0, 15, 16)));
});

Deno.test("utf8Length counts what TextEncoder writes, lone surrogates as U+FFFD", () => {
  const texts = [
    "",
    "abc",
    "é",
    "€uro",
    "😀",
    "a😀b",
    "\ud800",
    "x\udc00y",
    "\ud800\ud800",
    "😀\ud83d",
  ];
  for (const text of texts) {
    assert.equal(utf8Length(text), new TextEncoder().encode(text).length, JSON.stringify(text));
  }
});

Deno.test("formatBytes keeps bytes whole and scales larger sizes by 1024 with one decimal", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1023), "1023 B");
  assert.equal(formatBytes(1024), "1.0 KiB");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(64 * 1024 * 1024), "64.0 MiB");
  assert.equal(formatBytes(1.2 * 1024 ** 3), "1.2 GiB");
  assert.equal(formatBytes(3 * 1024 ** 5), "3072.0 TiB");
});

Deno.test("formatBytesAtLeast never shows less than the amount", () => {
  assert.equal(formatBytesAtLeast(26.74 * 1024 * 1024), "26.8 MiB");
  assert.equal(formatBytesAtLeast(26.7 * 1024 * 1024), "26.7 MiB");
  assert.equal(formatBytesAtLeast(1025), "1.1 KiB");
  assert.equal(formatBytesAtLeast(1000), "1000 B");
});
