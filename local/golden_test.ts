import assert from "node:assert/strict";
import { golden } from "../tests/golden.ts";
import { decodeDnsMessage, encodeDnsMessage } from "./dns.ts";
import { LOCAL_VERSION } from "./records.ts";
import { SAMPLE_MESSAGES } from "./_testing_samples.ts";

Deno.test("local discovery messages match the golden samples of local version 2", async () => {
  for (const [name, message] of Object.entries(SAMPLE_MESSAGES)) {
    const encoded = encodeDnsMessage(message);
    const fixture = await golden(`local_${name}`, encoded, LOCAL_VERSION);
    assert.deepEqual(encoded, fixture, `${name} changed on the wire`);
    assert.deepEqual(decodeDnsMessage(fixture), message);
  }
});
