import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { bytesToHash, NATIVE_SHA256_FROM, newSha256, sha256Kind } from "./_sha256.ts";
import { toHex } from "../base/mod.ts";

const parts = [new Uint8Array(1000).fill(7), new Uint8Array(70_000).fill(9), new Uint8Array(3)];

function expected(chunks: Uint8Array[]): Uint8Array {
  const hash = createHash("sha256");
  for (const chunk of chunks) hash.update(chunk);
  return new Uint8Array(hash.digest());
}

Deno.test("newSha256 digests alike below, from and without the native threshold", async () => {
  for (const total of [0, 10, NATIVE_SHA256_FROM - 1, NATIVE_SHA256_FROM, Infinity]) {
    // A transfer's total picks the hash: either digests alike.
    const hash = await newSha256(total);
    for (const part of parts) hash.update(part);
    assert.deepEqual(new Uint8Array(hash.digest()), expected(parts), `total ${total}`);
  }
});

Deno.test("sha256Kind's one-shot hex and running hash digest alike, on either side of the threshold", async () => {
  for (const total of [10, NATIVE_SHA256_FROM]) {
    const kind = await sha256Kind(total);
    for (const part of [new Uint8Array(0), ...parts, parts[1].subarray(5, 900)]) {
      assert.equal(kind.hex(part), toHex(expected([part])), `total ${total}, ${part.length} bytes`);
      assert.equal(toHex(kind.create().update(part).digest()), kind.hex(part));
    }
  }
});

Deno.test("bytesToHash counts each file from its offset, and an unknown size as Infinity", () => {
  assert.equal(bytesToHash([]), 0);
  assert.equal(bytesToHash([{ size: 10, offset: 4 }, { size: 5, offset: 0 }]), 11);
  assert.equal(
    bytesToHash([{ size: 10, offset: 0 }, { size: 0, offset: 0, unknownSize: true }]),
    Infinity,
  );
  assert.equal(bytesToHash([{ size: 0, offset: 0, stream: {} }]), Infinity);
});

Deno.test("a copied Sha256 digests the prefix while the original goes on", async () => {
  for (const size of [10, Infinity]) {
    const hash = await newSha256(size);
    hash.update(parts[0]);
    const prefix = hash.copy().digest();
    hash.update(parts[1]);
    assert.deepEqual(new Uint8Array(prefix), expected([parts[0]]), `size ${size}`);
    assert.deepEqual(new Uint8Array(hash.digest()), expected(parts.slice(0, 2)), `size ${size}`);
  }
});
