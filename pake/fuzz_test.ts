import assert from "node:assert/strict";
import { ProtocolError } from "../base/mod.ts";
import {
  decodeFrame,
  decodeFrameHeader,
  encodeFrame,
  FrameType,
  MAX_FRAME_PAYLOAD,
} from "./_frame.ts";
import { bounded, transformPair } from "./_test_pipes.ts";
import { runPakeHandshake } from "./handshake.ts";
import { decodeSpake2Message, Spake2 } from "./spake2.ts";

/** Small seeded PRNG (xorshift32) so a failure can be replayed from the seed. */
function prng(seed: number) {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  return {
    int: (below: number) => next() % below,
    bytes: (length: number) => Uint8Array.from({ length }, () => next() & 0xff),
  };
}

/** Flips bits, overwrites, truncates, extends or splices `input`. */
function mutate(input: Uint8Array, random: ReturnType<typeof prng>): Uint8Array {
  let out = input.slice();
  const rounds = 1 + random.int(4);
  for (let round = 0; round < rounds; round++) {
    switch (random.int(5)) {
      case 0:
        if (out.length > 0) out[random.int(out.length)] ^= 1 << random.int(8);
        break;
      case 1:
        if (out.length > 0) out[random.int(out.length)] = random.int(256);
        break;
      case 2:
        out = out.slice(0, random.int(out.length + 1));
        break;
      case 3:
        out = new Uint8Array([...out, ...random.bytes(1 + random.int(8))]);
        break;
      default: {
        const at = random.int(out.length + 1);
        out = new Uint8Array([
          ...out.subarray(0, at),
          ...random.bytes(random.int(4)),
          ...out.subarray(at),
        ]);
      }
    }
  }
  return out;
}

/** Runs `decode`, requiring that it returns or throws a ProtocolError and nothing else. */
function expectOnlyProtocolErrors(decode: () => unknown, input: Uint8Array): boolean {
  try {
    decode();
    return true;
  } catch (error) {
    if (!(error instanceof ProtocolError)) {
      const hex = Array.from(input, (b) => b.toString(16).padStart(2, "0")).join("");
      throw new Error(`decoder threw ${error} (not a ProtocolError) for input ${hex}`);
    }
    return false;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

const ids = { identityA: new Uint8Array([1]), identityB: new Uint8Array([2]) };
const password = new TextEncoder().encode("lantern-crossword");

Deno.test("frame decoder throws only ProtocolError on 60,000 random and mutated inputs", () => {
  const random = prng(0x5eed1);
  const seeds = [
    encodeFrame(FrameType.Share, random.bytes(65)),
    encodeFrame(FrameType.Confirm, random.bytes(32)),
  ];
  let accepted = 0;
  for (let i = 0; i < 60_000; i++) {
    let input: Uint8Array;
    if (i % 3 === 0) {
      input = random.bytes(random.int(MAX_FRAME_PAYLOAD + 16));
      // Give random inputs a valid version byte half the time to reach deeper checks.
      if (input.length > 0 && random.int(2) === 0) input[0] = 1;
    } else {
      input = mutate(seeds[i % 2], random);
    }
    const ok = expectOnlyProtocolErrors(() => {
      const frame = decodeFrame(input);
      assert.equal(frame.payload.length + 4, input.length);
    }, input);
    if (input.length >= 4) {
      expectOnlyProtocolErrors(() => decodeFrameHeader(input.subarray(0, 4)), input);
    }
    if (ok) accepted++;
  }
  // Mutations that leave a frame valid (payload byte flips) must still decode.
  assert.ok(accepted > 1_000, `only ${accepted} inputs decoded`);
});

Deno.test("SPAKE2 share decoder throws only ProtocolError on 60,000 random and mutated inputs", async () => {
  const random = prng(0x5eed2);
  // A few valid shares to mutate (each costs two scalar multiplications).
  const valid = await Promise.all(
    Array.from({ length: 8 }, async () => (await Spake2.start("A", password, ids)).message),
  );
  for (const share of valid) decodeSpake2Message(share);
  let corrupted = 0;
  for (let i = 0; i < 60_000; i++) {
    let input: Uint8Array;
    switch (i % 4) {
      case 0:
        input = random.bytes(random.int(100));
        break;
      case 1:
        input = new Uint8Array([4, ...random.bytes(64)]);
        break;
      case 2: {
        input = valid[i % valid.length].slice();
        input[1 + random.int(64)] ^= 1 << random.int(8);
        break;
      }
      default:
        input = mutate(valid[i % valid.length], random);
    }
    const decoded = expectOnlyProtocolErrors(() => decodeSpake2Message(input), input);
    if (decoded && !valid.some((share) => sameBytes(share, input))) corrupted++;
  }
  // A corrupted coordinate lands on the curve with negligible probability.
  assert.equal(corrupted, 0, `${corrupted} corrupted shares decoded as points`);
});

Deno.test("runPakeHandshake fails only with ProtocolError on 300 mutated, fragmented streams", async () => {
  const random = prng(0x5eed3);
  const share = encodeFrame(FrameType.Share, (await Spake2.start("B", password, ids)).message);
  for (let i = 0; i < 300; i++) {
    const input = i % 2 === 0 ? mutate(share, random) : random.bytes(random.int(80));
    const [local, peer] = transformPair();
    const writer = peer.writable.getWriter();
    const peerDone = (async () => {
      // Deliver in random fragments, then end the stream.
      for (let at = 0; at < input.length;) {
        const size = 1 + random.int(8);
        await writer.write(input.subarray(at, at + size));
        at += size;
      }
      await writer.close();
    })().catch(() => {}); // Writes fail once the local side gives up and cancels.
    const handshake = runPakeHandshake(local, {
      role: "receiver",
      code: "lantern-crossword",
      nameplate: "7",
      channelBinding: new Uint8Array(32),
    });
    await assert.rejects(bounded(handshake), ProtocolError, `input ${i}`);
    await local.readable.cancel();
    await bounded(peerDone);
  }
});
