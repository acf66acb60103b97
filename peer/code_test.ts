import assert from "node:assert/strict";
import { assertKnownWords, formatCode, generateWords, nearestWord, parseCode } from "./code.ts";

Deno.test("generateWords draws distinct codes from the word list", () => {
  const codes = new Set(Array.from({ length: 200 }, () => generateWords()));
  assert.ok(codes.size > 190, `only ${codes.size} distinct codes in 200 draws`);
  for (const words of codes) assert.match(words, /^[a-z]+-[a-z]+$/);
});

Deno.test("parseCode accepts the printed form, spaces and capitals", () => {
  assert.deepEqual(parseCode("7-lantern-crossword"), {
    nameplate: "7",
    words: "lantern-crossword",
  });
  assert.deepEqual(parseCode("  12 Lantern CROSSWORD "), {
    nameplate: "12",
    words: "lantern-crossword",
  });
  const code = { nameplate: "99999", words: "abandon-zoo-ability" };
  assert.deepEqual(parseCode(formatCode(code)), code);
});

Deno.test("parseCode reads a number typed with leading zeros as the nameplate it names", () => {
  assert.deepEqual(parseCode("007-lantern-crossword"), {
    nameplate: "7",
    words: "lantern-crossword",
  });
  assert.throws(() => parseCode("00-lantern-crossword"), { message: /must start with a number/ });
});

Deno.test("parseCode rejects a code with too few words or a bad nameplate", () => {
  assert.throws(() => parseCode("7-lantern"), { name: "TypeError", message: /at least 2 words/ });
  for (const bad of ["lantern-crossword", "0-lantern-crossword", "123456-lantern-crossword", ""]) {
    assert.throws(() => parseCode(bad), { name: "TypeError", message: /must start with a number/ });
  }
  assert.throws(() => parseCode("7-lan7ern-crossword"), { message: /"lan7ern"/ });
});

Deno.test("assertKnownWords accepts list words and suggests the nearest word for a typo", () => {
  assertKnownWords(parseCode("2-service-scan"));
  assert.throws(() => assertKnownWords(parseCode("2-service-scanx")), {
    name: "TypeError",
    message: /"scanx" is not in the word list; did you mean "scan"\?/,
  });
  assert.throws(() => assertKnownWords(parseCode("2-servise-scan")), {
    message: /"servise" .* did you mean "service"\?/,
  });
});

Deno.test("nearestWord finds the closest list word by edit distance", () => {
  assert.equal(nearestWord("abandom"), "abandon");
  assert.equal(nearestWord("zoo"), "zoo");
  assert.equal(nearestWord("wrold"), "world");
});
