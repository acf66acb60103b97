import assert from "node:assert/strict";
import { renderQr } from "./qr.ts";

Deno.test("renderQr: plain text inks the light modules, quiet zone included; colour inks the dark", () => {
  const plain = renderQr("7-lantern-crossword", { color: false }).split("\n");
  const width = plain[0].length;
  assert.ok(width >= 25 + 8, `width ${width}`);
  assert.ok(plain.every((line) => line.length === width));
  // The 4-module quiet zone: two full lines on top, four columns each side.
  assert.deepEqual(plain.slice(0, 2), ["█".repeat(width), "█".repeat(width)]);
  assert.ok(plain.slice(2, -2).every((line) => line.startsWith("████") && line.endsWith("████")));
  const colored = renderQr("7-lantern-crossword", { color: true }).split("\n");
  assert.equal(colored.length, plain.length);
  assert.ok(colored[0].startsWith("\x1b[38;5;16;48;5;231m   "), JSON.stringify(colored[0]));
  assert.ok(colored[0].endsWith("   \x1b[0m"), JSON.stringify(colored[0]));
  assert.notEqual(
    renderQr("7-lantern-crossword", { color: false }),
    renderQr("8-lantern-crossword", { color: false }),
  );
});
