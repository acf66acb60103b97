import qrcode from "qrcode";

/** The one function of npm:qrcode used here (the package ships no types). */
interface QrEncoder {
  create(text: string, options: { errorCorrectionLevel: "L" | "M" | "Q" | "H" }): {
    modules: { size: number; get(row: number, column: number): number };
  };
}
const QRCode = qrcode as QrEncoder;

/** The light margin a scanner finds the code by: 4 modules, as ISO/IEC 18004 asks. */
const QUIET_ZONE = 4;
/** Black on white from the 256-colour palette, which terminal themes leave as they are. */
const BLACK_ON_WHITE = "\x1b[38;5;16;48;5;231m";
const RESET = "\x1b[0m";

export interface QrStyle {
  /**
   * Draw in black on white whatever the terminal's colours (for a terminal, unless
   * NO_COLOR). Without: plain characters whose glyphs are the light modules, right
   * on a dark background (the `qr` field of `--json`, and NO_COLOR).
   */
  color: boolean;
}

/** Whether the user allows colour (https://no-color.org: NO_COLOR set and not empty forbids it). */
export function colorAllowed(): boolean {
  return !Deno.env.get("NO_COLOR");
}

/**
 * The text as a QR code drawn with Unicode half blocks (two modules a
 * character, so modules come out square), with its quiet zone, for a phone camera.
 */
export function renderQr(text: string, style: QrStyle): string {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: "M" });
  const size = modules.size;
  const dark = (row: number, column: number) =>
    row >= 0 && column >= 0 && row < size && column < size && modules.get(row, column) === 1;
  // What the glyphs draw in the foreground colour: the dark modules in black on white, else
  // the light ones (a dark terminal's foreground is light).
  const ink = style.color ? dark : (row: number, column: number) => !dark(row, column);
  const lines: string[] = [];
  for (let row = -QUIET_ZONE; row < size + QUIET_ZONE; row += 2) {
    let line = "";
    for (let column = -QUIET_ZONE; column < size + QUIET_ZONE; column++) {
      const top = ink(row, column);
      const bottom = row + 1 < size + QUIET_ZONE && ink(row + 1, column);
      line += top && bottom ? "█" : top ? "▀" : bottom ? "▄" : " ";
    }
    lines.push(style.color ? `${BLACK_ON_WHITE}${line}${RESET}` : line);
  }
  return lines.join("\n");
}
