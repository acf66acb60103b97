import assert from "node:assert/strict";
import { ProtocolError } from "../base/mod.ts";
import { decodeDnsMessage, encodeDnsMessage, MAX_MESSAGE_SIZE } from "./dns.ts";
import { readAdvert, receiverInstance, senderInstance } from "./records.ts";
import { SAMPLE_MESSAGES, SAMPLE_NAMEPLATE, SAMPLE_SENDER } from "./_testing_samples.ts";
import { mutate, type MutationRules, prng, randomInput } from "../tests/fuzz.ts";

/** DNS edits: compression pointers and header counts. */
const DNS_RULES: MutationRules = {
  // A compression pointer's first byte among them.
  boundaries: [0, 1, 0x3f, 0x40, 0xc0, 0xff],
  maxRepeat: 60,
  limit: MAX_MESSAGE_SIZE,
  own: [
    (data, rand) => { // write a compression pointer to a random offset
      if (data.length > 2) {
        const at = rand(data.length - 1);
        const target = rand(data.length);
        data[at] = 0xc0 | (target >> 8);
        data[at + 1] = target & 0xff;
      }
      return data;
    },
    (data, rand) => { // corrupt a header count
      if (data.length >= 12) data[4 + rand(8)] = rand(256);
      return data;
    },
  ],
};

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
        input = randomInput(rand, 600);
      } else {
        input = mutate(valid[rand(valid.length)], rand, DNS_RULES);
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
