import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { NATIVE_SHA256_FROM, newSha256 } from "./_sha256.ts";

const parts = [new Uint8Array(1000).fill(7), new Uint8Array(70_000).fill(9), new Uint8Array(3)];

function expected(chunks: Uint8Array[]): Uint8Array {
  const hash = createHash("sha256");
  for (const chunk of chunks) hash.update(chunk);
  return new Uint8Array(hash.digest());
}

Deno.test("newSha256 digests alike below, from and without the native threshold", async () => {
  for (const size of [0, NATIVE_SHA256_FROM - 1, NATIVE_SHA256_FROM, undefined]) {
    for (const total of [undefined, 10, NATIVE_SHA256_FROM]) {
      // A transfer's total, when given, picks the hash: either digests alike.
      const hash = await newSha256(size, { total });
      for (const part of parts) hash.update(part);
      assert.deepEqual(new Uint8Array(hash.digest()), expected(parts), `size ${size} of ${total}`);
    }
  }
});

Deno.test("a copied Sha256 digests the prefix while the original goes on", async () => {
  for (const size of [10, undefined]) {
    const hash = await newSha256(size);
    hash.update(parts[0]);
    const prefix = hash.copy().digest();
    hash.update(parts[1]);
    assert.deepEqual(new Uint8Array(prefix), expected([parts[0]]), `size ${size}`);
    assert.deepEqual(new Uint8Array(hash.digest()), expected(parts.slice(0, 2)), `size ${size}`);
  }
});
