import assert from "node:assert/strict";
import { UsageError } from "../base/mod.ts";
import { parseRate, parseSize } from "./parse_size.ts";

Deno.test("parseSize reads bytes, decimal and binary units, any case", () => {
  assert.equal(parseSize("1048576", "--x"), 1048576);
  assert.equal(parseSize("8GiB", "--x"), 8 * 2 ** 30);
  assert.equal(parseSize("1 mib", "--x"), 2 ** 20);
  assert.equal(parseSize("500M", "--x"), 500e6);
  assert.equal(parseSize("1.5KiB", "--x"), 1536);
});

Deno.test("parseSize refuses what is not a positive size, naming the flag", () => {
  for (const bad of ["", "0", "-1", "8 parsecs", "GiB", "1e9", "0x10"]) {
    assert.throws(
      () => parseSize(bad, "--relay-max-bytes"),
      (error: unknown) =>
        error instanceof UsageError && error.message.startsWith("--relay-max-bytes "),
    );
  }
});

Deno.test("parseRate reads MB/s and refuses zero and junk", () => {
  assert.equal(parseRate("100", "--x"), 100e6);
  assert.equal(parseRate("12.5", "--x"), 12.5e6);
  for (const bad of ["0", "-3", "fast", "1e3", ""]) {
    assert.throws(
      () => parseRate(bad, "--relay-rate"),
      (error: unknown) => error instanceof UsageError && error.message.startsWith("--relay-rate "),
    );
  }
});
