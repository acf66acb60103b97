/**
 * `send --qr` through the real CLI, scanned by a real decoder (npm:jsqr): what
 * the sender prints is drawn into a bitmap the way a terminal would (half
 * blocks, its colour codes, the theme's own colours around and behind them),
 * on a dark and on a light theme.
 */
import assert from "node:assert/strict";
import jsQRModule from "jsqr";
import { boundedTest } from "./bounded.ts";
import { world } from "./world.ts";

// A CommonJS package: its default import is module.exports, the function its types call `default`.
const jsQR = jsQRModule as unknown as typeof jsQRModule.default;

/** A terminal theme: its default foreground and background (RGB). */
interface Theme {
  name: string;
  fg: number[];
  bg: number[];
}
const DARK: Theme = { name: "dark", fg: [229, 229, 229], bg: [30, 30, 30] };
const LIGHT: Theme = { name: "light", fg: [40, 40, 40], bg: [250, 250, 250] };
/** A colour code (SGR), and one character or colour code at a time. */
const SGR = new RegExp(String.raw`\x1b\[[0-9;]*m`, "g");
const TOKEN = new RegExp(String.raw`\x1b\[[0-9;]*m|[^\x1b]`, "gu");
const DRAWING = new RegExp(String.raw`^(\x1b\[[0-9;]*m|[█▀▄ ])+$`, "u");
/** The 256-colour palette entries the QR code uses. */
const PALETTE: Record<number, number[]> = { 16: [0, 0, 0], 231: [255, 255, 255] };
/** A cell is one module wide and two high: 4 x 8 pixels. */
const CELL_W = 4;
const CELL_H = 8;
/** The theme's background around the text, as a terminal window has. */
const MARGIN = 24;

/** `lines` as a terminal with `theme` shows them, as RGBA pixels. */
function drawTerminal(lines: string[], theme: Theme) {
  const columns = Math.max(...lines.map((line) => [...line.replace(SGR, "")].length));
  const width = columns * CELL_W + 2 * MARGIN;
  const height = lines.length * CELL_H + 2 * MARGIN;
  const data = new Uint8ClampedArray(width * height * 4);
  const paint = (x: number, y: number, rgb: number[]) =>
    data.set([...rgb, 255], (y * width + x) * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) paint(x, y, theme.bg);
  lines.forEach((line, row) => {
    let fg = theme.fg;
    let bg = theme.bg;
    let column = 0;
    for (const token of line.match(TOKEN) ?? []) {
      if (token.startsWith("\x1b")) {
        const codes = token.slice(2, -1).split(";").map(Number);
        for (let i = 0; i < codes.length; i++) {
          if (codes[i] === 0) [fg, bg] = [theme.fg, theme.bg];
          else if (codes[i] === 38 && codes[i + 1] === 5) fg = PALETTE[codes[i += 2]];
          else if (codes[i] === 48 && codes[i + 1] === 5) bg = PALETTE[codes[i += 2]];
          else assert.fail(`unexpected colour code ${codes[i]} in ${JSON.stringify(token)}`);
        }
        continue;
      }
      const top = token === "█" || token === "▀" ? fg : bg;
      const bottom = token === "█" || token === "▄" ? fg : bg;
      assert.ok("█▀▄ ".includes(token), `unexpected character ${JSON.stringify(token)}`);
      for (let dy = 0; dy < CELL_H; dy++) {
        for (let dx = 0; dx < CELL_W; dx++) {
          paint(
            MARGIN + column * CELL_W + dx,
            MARGIN + row * CELL_H + dy,
            dy < CELL_H / 2 ? top : bottom,
          );
        }
      }
      column++;
    }
  });
  return { data, width, height };
}

/** What a scanner that reads only dark-on-light codes (as most phone cameras do) reads. */
function scan(
  lines: string[],
  theme: Theme,
  inversion: "dontInvert" | "invertFirst" = "dontInvert",
) {
  const { data, width, height } = drawTerminal(lines, theme);
  try {
    return jsQR(data, width, height, { inversionAttempts: inversion })?.data;
  } catch {
    // jsQR's locator throws on some images with no readable code (a known bug of 1.4.0).
    return undefined;
  }
}

/** The QR code's lines of what `send --qr` printed before its code line. */
async function printedQr(env: Record<string, string>, signal: AbortSignal) {
  await using w = await world(signal);
  await Deno.writeTextFile(`${w.dir}/note.txt`, "hello");
  const sender = w.spawnCli(["send", `${w.dir}/note.txt`, ...w.rendezvous, "--qr"], { env });
  const codeLine = await sender.until(
    (event) => String(event.line).startsWith("Code is: "),
    signal,
  );
  sender.kill("SIGTERM");
  const { stdout } = await sender.finished();
  const lines = stdout.split("\n");
  // The drawing: the lines of half blocks (and colour codes) right above the code's line.
  let start = lines.findIndex((line) => line.startsWith("Code is: "));
  const end = start;
  while (start > 0 && DRAWING.test(lines[start - 1])) start--;
  return { code: String(codeLine.line).slice("Code is: ".length), qr: lines.slice(start, end) };
}

boundedTest(
  "send --qr prints a code a scanner reads on a dark and on a light terminal",
  async (signal) => {
    const { code, qr } = await printedQr({ NO_COLOR: "" }, signal);
    assert.match(code, /^\d+-[a-z]+-[a-z]+$/);
    assert.ok(qr.length >= (21 + 8) / 2, qr.join("\n"));
    for (const theme of [DARK, LIGHT]) assert.equal(scan(qr, theme), code, `${theme.name} theme`);
  },
);

boundedTest(
  "send --qr under NO_COLOR draws for a dark terminal: read there as is, on a light one only inverted",
  async (signal) => {
    const { code, qr } = await printedQr({ NO_COLOR: "1" }, signal);
    assert.ok(qr.every((line) => !line.includes("\x1b")), "colour codes under NO_COLOR");
    assert.equal(scan(qr, DARK), code);
    assert.equal(scan(qr, LIGHT), undefined);
    // jsQR 1.4.0's "onlyInvert" never inverts; "invertFirst" does.
    assert.equal(scan(qr, LIGHT, "invertFirst"), code);
  },
);
