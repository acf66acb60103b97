import assert from "node:assert/strict";
import { ProtocolError } from "../errors.ts";
import { decodeDnsMessage, encodeDnsMessage, MAX_MESSAGE_SIZE } from "./dns.ts";
import { readAdvert, receiverInstance, senderInstance } from "./records.ts";
import { SAMPLE_MESSAGES, SAMPLE_NAMEPLATE, SAMPLE_SENDER } from "./_testing_samples.ts";
import { prng } from "../tests/fuzz.ts";
import { concatBytes } from "../bytes.ts";

function mutate(base: Uint8Array, rand: (limit: number) => number): Uint8Array {
  let data = base.slice();
  const edits = 1 + rand(4);
  for (let e = 0; e < edits; e++) {
    switch (rand(7)) {
      case 0: // flip a bit
        if (data.length) data[rand(data.length)] ^= 1 << rand(8);
        break;
      case 1: // set a byte to a boundary value, or a compression pointer's first byte
        if (data.length) {
          data[rand(data.length)] = [0, 1, 0x3f, 0x40, 0xc0, 0xff, rand(256)][rand(7)];
        }
        break;
      case 2: // truncate
        data = data.subarray(0, rand(data.length + 1));
        break;
      case 3: { // write a compression pointer to a random offset
        if (data.length > 2) {
          const at = rand(data.length - 1);
          const target = rand(data.length);
          data[at] = 0xc0 | (target >> 8);
          data[at + 1] = target & 0xff;
        }
        break;
      }
      case 4: { // duplicate a slice (repeats records)
        const start = rand(data.length + 1);
        const slice = data.slice(start, start + rand(60));
        data = concatBytes([data, slice]);
        break;
      }
      case 5: // corrupt a header count
        if (data.length >= 12) data[4 + rand(8)] = rand(256);
        break;
      default: // grow past the limit now and then
        if (rand(50) === 0) {
          const grown = new Uint8Array(MAX_MESSAGE_SIZE + 1 + rand(100));
          grown.set(data.subarray(0, grown.length));
          data = grown;
        }
    }
  }
  return data;
}

Deno.test({
  name:
    "decodeDnsMessage and readAdvert survive 60,000 random and mutated messages with only ProtocolError",
  fn() {
    const rand = prng(0x6d646e73);
    const valid = Object.values(SAMPLE_MESSAGES).map(encodeDnsMessage);
    const instances = [senderInstance(SAMPLE_NAMEPLATE), receiverInstance(SAMPLE_SENDER.token)];
    let accepted = 0;
    let rejected = 0;
    for (let i = 0; i < 60_000; i++) {
      let input: Uint8Array;
      if (i % 4 === 0) {
        input = new Uint8Array(rand(600));
        for (let j = 0; j < input.length; j++) input[j] = rand(256);
      } else {
        input = mutate(valid[rand(valid.length)], rand);
      }
      try {
        const message = decodeDnsMessage(input);
        accepted++;
        // Whatever decodes must re-encode to something that decodes the same.
        assert.deepEqual(decodeDnsMessage(encodeDnsMessage(message)), message);
        for (const instance of instances) readAdvert(message, instance);
      } catch (error) {
        if (!(error instanceof ProtocolError)) {
          throw new Error(`input #${i} ${Array.from(input).join(",")} threw ${error}`, {
            cause: error,
          });
        }
        rejected++;
      }
    }
    assert(accepted > 1000 && rejected > 1000, `accepted ${accepted}, rejected ${rejected}`);
  },
});
