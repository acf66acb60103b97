import assert from "node:assert/strict";
import { renderQr } from "./qr.ts";

Deno.test("renderQr draws a square of half blocks with a light quiet zone", () => {
  const lines = renderQr("7-lantern-crossword").split("\n");
  const width = lines[0].length;
  assert.ok(width >= 25, `width ${width}`);
  assert.ok(lines.every((line) => line.length === width));
  assert.equal(lines[0], "█".repeat(width));
  assert.match(lines.slice(1, -1).join(""), /[ ▀▄]/);
  assert.notEqual(renderQr("7-lantern-crossword"), renderQr("8-lantern-crossword"));
});
