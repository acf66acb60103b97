import assert from "node:assert/strict";
import { concatBytes } from "./bytes.ts";
import { writeAll, writeAllSync } from "./write_all.ts";

/** A real pipe-like target that takes at most `most` bytes per write, as a busy socket may. */
function slowTarget(most: number) {
  const taken: number[] = [];
  return {
    taken,
    write: (bytes: Uint8Array) => Promise.resolve(take(bytes)),
    writeSync: take,
  };
  function take(bytes: Uint8Array): number {
    const n = Math.min(most, bytes.length);
    taken.push(...bytes.subarray(0, n));
    return n;
  }
}

Deno.test("writeAll hands over every byte when each write takes only part", async () => {
  const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
  const target = slowTarget(7);
  await writeAll(target, bytes);
  assert.deepEqual(Uint8Array.from(target.taken), bytes);
});

Deno.test("writeAllSync hands over every byte when each write takes only part", () => {
  const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i % 253);
  const target = slowTarget(13);
  writeAllSync(target, bytes);
  assert.deepEqual(Uint8Array.from(target.taken), bytes);
});

Deno.test("writeAll hands a buffer larger than the socket's buffers over TCP, every byte", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  using client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  using server = await accepted;
  const bytes = Uint8Array.from({ length: 4 << 20 }, (_, i) => (i * 7) % 256);
  const writing = writeAll(client, bytes).then(() => client.closeWrite());
  const received: Uint8Array[] = [];
  for await (const chunk of server.readable) received.push(chunk);
  await writing;
  assert.deepEqual(concatBytes(received), bytes);
});
