import { createHmac } from "node:crypto";
import { MAX_SHORT_MESSAGE, ShortHmac } from "./_hmac.ts";
import { assertEquals, assertThrows } from "../testing/mod.ts";

Deno.test("ShortHmac equals node:crypto's HMAC-SHA-256 for every message length and key size", () => {
  for (const keyLength of [16, 32, 64, 65, 100, 119, 120, 128, 183, 184, 1000]) {
    const key = crypto.getRandomValues(new Uint8Array(keyLength));
    const mac = new ShortHmac(key);
    for (let length = 0; length <= MAX_SHORT_MESSAGE; length++) {
      const message = crypto.getRandomValues(new Uint8Array(length));
      const expected = new Uint8Array(createHmac("sha256", key).update(message).digest());
      assertEquals(mac.mac(message), expected, `key ${keyLength} B, message ${length} B`);
    }
  }
});

Deno.test("ShortHmac refuses a message longer than one block holds", () => {
  const mac = new ShortHmac(new Uint8Array(32));
  assertThrows(() => mac.mac(new Uint8Array(MAX_SHORT_MESSAGE + 1)), RangeError, "at most 55");
});
