import { concatBytes, ProtocolError } from "../../base/mod.ts";
import { decodeMessage, encodeMessage } from "./protocol.ts";
import { MAX_DATAGRAM_SIZE, PROTOCOL_VERSION } from "./_wire.ts";
import { assert, assertEquals, SAMPLES } from "../testing/mod.ts";
import { mutate, type MutationRules, prng, randomInput } from "../../tests/fuzz.ts";

/** Datagram edits: random bytes at the end, and field headers. */
const DATAGRAM_RULES: MutationRules = {
  boundaries: [0, 1, 0x7f, 0x80, 0xff],
  maxRepeat: 40,
  limit: MAX_DATAGRAM_SIZE,
  own: [
    (data, rand) => { // append random bytes
      const extra = new Uint8Array(rand(40));
      for (let i = 0; i < extra.length; i++) extra[i] = rand(256);
      return concatBytes([data, extra]);
    },
    (data, rand) => { // corrupt a length-looking position (field headers follow the 6-byte header)
      if (data.length > 8) data[6 + rand(Math.min(data.length - 6, 30))] = rand(256);
      return data;
    },
  ],
};

Deno.test({
  name: "decodeMessage survives 120,000 random and mutated datagrams with only ProtocolError",
  sanitizeOps: true,
  fn() {
    const rand = prng(0x5eed1234);
    const valid = SAMPLES.flatMap((m) => [encodeMessage(m), encodeMessage(m, { padTo: 300 })]);
    let accepted = 0;
    let rejected = 0;
    // Both optional fields version 3 added must be among what survives mutation and decodes.
    let withCookie = 0;
    let withRelay = 0;
    for (let i = 0; i < 120_000; i++) {
      let input: Uint8Array;
      if (i % 3 === 0) {
        input = randomInput(rand, 1300);
        if (rand(2) === 0 && input.length >= 6) {
          input.set([0x50, 0x32, 0x52, 0x56, PROTOCOL_VERSION], 0);
        }
      } else {
        input = mutate(valid[rand(valid.length)], rand, DATAGRAM_RULES);
      }
      try {
        const message = decodeMessage(input);
        accepted++;
        if ("cookie" in message && message.cookie !== undefined) withCookie++;
        if (message.type === "paired" && message.relay !== undefined) withRelay++;
        // Whatever decodes must re-encode to something that decodes the same.
        assertEquals(decodeMessage(encodeMessage(message)), message);
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
    assert(withCookie > 100 && withRelay > 100, `cookie ${withCookie}, relay ${withRelay}`);
  },
});
