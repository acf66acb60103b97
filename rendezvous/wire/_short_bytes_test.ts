import { toHex } from "../../base/mod.ts";
import { copyBytes, MAX_SHORT, shortFromHex } from "./_short_bytes.ts";
import { assert, assertEquals } from "../testing/mod.ts";

Deno.test("copyBytes copies: a later change to the source does not reach the copy", () => {
  const data = Uint8Array.from({ length: 40 }, (_, i) => i);
  const short = copyBytes(data, 4, 4 + MAX_SHORT);
  const long = copyBytes(data, 0, 32);
  data.fill(0xff);
  assertEquals(short, Uint8Array.from({ length: MAX_SHORT }, (_, i) => i + 4));
  assertEquals(long, Uint8Array.from({ length: 32 }, (_, i) => i));
});

Deno.test("copyBytes gives short copies that do not overlap", () => {
  const data = new Uint8Array(16).fill(1);
  const copies = Array.from({ length: 200 }, (_, i) => copyBytes(data.fill(i % 256), 0, 16));
  copies.forEach((copy, i) => assertEquals(copy, new Uint8Array(16).fill(i % 256)));
  // 200 copies of 16 bytes fill more than one slab.
  assert(copies[0].buffer !== copies[199].buffer);
});

Deno.test("shortFromHex reads what toHex writes, at any length", () => {
  for (const length of [0, 1, 16, 32]) {
    const bytes = Uint8Array.from({ length }, (_, i) => (i * 37 + 200) % 256);
    assertEquals(shortFromHex(toHex(bytes)), bytes);
  }
});
