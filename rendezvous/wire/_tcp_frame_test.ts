import { concatBytes, ConnectionLostError, ProtocolError, type ReadsInto } from "../../base/mod.ts";
import { encodeFrame, readFrame } from "./_tcp_frame.ts";
import { decodeMessage, encodeMessage } from "./protocol.ts";
import { MAX_DATAGRAM_SIZE } from "./_wire.ts";
import { assert, assertEquals, assertRejects, assertThrows, SAMPLES } from "../testing/mod.ts";
import { prng } from "../../tests/fuzz.ts";

/** An in-memory stream handing out at most `chunk(i)` bytes per read; records how much was taken. */
class MemoryReader implements ReadsInto {
  taken = 0;
  reads = 0;
  readonly #data: Uint8Array;
  readonly #chunk: (read: number) => number;

  constructor(data: Uint8Array, chunk: (read: number) => number = () => Infinity) {
    this.#data = data;
    this.#chunk = chunk;
  }

  read(buffer: Uint8Array): Promise<number | null> {
    if (this.taken >= this.#data.length) return Promise.resolve(null);
    const n = Math.min(buffer.length, this.#data.length - this.taken, this.#chunk(this.reads++));
    buffer.set(this.#data.subarray(this.taken, this.taken + n));
    this.taken += n;
    return Promise.resolve(n);
  }
}

const PEER = { peer: "test peer" };

Deno.test("readFrame returns each framed message whole, however the bytes are chunked", async () => {
  const messages = SAMPLES.map((sample) => encodeMessage(sample));
  const stream = concatBytes(messages.map(encodeFrame));
  for (const size of [1, 2, 3, 7, 1000]) {
    const reader = new MemoryReader(stream, () => size);
    for (const message of messages) assertEquals(await readFrame(reader, PEER), message);
    assertEquals(await readFrame(reader, PEER), null);
  }
});

Deno.test("readFrame never reads past the end of its frame", async () => {
  const message = encodeMessage(SAMPLES[11]);
  const after = new Uint8Array(5000).fill(7);
  const reader = new MemoryReader(concatBytes([encodeFrame(message), after]));
  assertEquals(await readFrame(reader, PEER), message);
  assertEquals(reader.taken, 2 + message.length);
});

Deno.test("readFrame rejects a length of 0 or over 1200 before reading the body", async () => {
  for (const length of [0, MAX_DATAGRAM_SIZE + 1, 65535]) {
    const reader = new MemoryReader(
      concatBytes([Uint8Array.of(length >> 8, length & 0xff), new Uint8Array(70000)]),
    );
    await assertRejects(
      () => readFrame(reader, PEER),
      ProtocolError,
      `length ${length} is outside 1 to 1200 bytes`,
    );
    assertEquals(reader.taken, 2);
  }
});

Deno.test("readFrame tells a clean end from a connection lost inside a frame", async () => {
  assertEquals(await readFrame(new MemoryReader(new Uint8Array(0)), PEER), null);
  const frame = encodeFrame(encodeMessage(SAMPLES[3]));
  for (const cut of [1, 2, 10, frame.length - 1]) {
    await assertRejects(
      () => readFrame(new MemoryReader(frame.subarray(0, cut)), PEER),
      ConnectionLostError,
      "The TCP connection to test peer closed inside a frame",
    );
  }
  const failing: ReadsInto = {
    read: () => Promise.reject(new Deno.errors.ConnectionReset("reset")),
  };
  await assertRejects(() => readFrame(failing, PEER), ConnectionLostError, "failed: reset");
});

Deno.test("encodeFrame refuses empty and oversized messages", () => {
  assertThrows(() => encodeFrame(new Uint8Array(0)), RangeError, "0 bytes");
  assertThrows(() => encodeFrame(new Uint8Array(1201)), RangeError, "1201 bytes");
  assertEquals([...encodeFrame(Uint8Array.of(9, 8)).subarray(0, 2)], [0, 2]);
});

Deno.test("a random or mangled TCP byte stream only ever yields frames, a clean end, ProtocolError or ConnectionLostError", async () => {
  const good = concatBytes(SAMPLES.map((sample) => encodeFrame(encodeMessage(sample))));
  for (let seed = 1; seed <= 400; seed++) {
    const rand = prng(seed);
    let data: Uint8Array;
    if (seed % 2 === 0) {
      data = new Uint8Array(rand(3000));
      for (let i = 0; i < data.length; i++) data[i] = rand(256);
    } else {
      data = good.slice(0, rand(good.length + 1));
      for (let edits = rand(6); edits > 0 && data.length > 0; edits--) {
        data[rand(data.length)] = rand(256);
      }
    }
    const reader = new MemoryReader(data, () => 1 + rand(64));
    for (;;) {
      let frame: Uint8Array | null;
      try {
        frame = await readFrame(reader, PEER);
      } catch (error) {
        assert(
          error instanceof ProtocolError || error instanceof ConnectionLostError,
          `seed ${seed}: ${error}`,
        );
        break;
      }
      if (frame === null) break;
      assert(frame.length >= 1 && frame.length <= MAX_DATAGRAM_SIZE, `seed ${seed}`);
      try {
        decodeMessage(frame);
      } catch (error) {
        assert(error instanceof ProtocolError, `seed ${seed}: ${error}`);
      }
    }
  }
});
