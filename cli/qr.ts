import qrcode from "qrcode";

/** The one function of npm:qrcode used here (the package ships no types). */
interface QrEncoder {
  create(text: string, options: { errorCorrectionLevel: "L" | "M" | "Q" | "H" }): {
    modules: { size: number; get(row: number, column: number): number };
  };
}
const QRCode = qrcode as QrEncoder;

const QUIET_ZONE = 2;

/**
 * The text as a QR code drawn with Unicode half blocks (two modules a
 * character, dark on a light terminal or light on a dark one), for a phone camera.
 */
export function renderQr(text: string): string {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: "M" });
  const size = modules.size;
  const dark = (row: number, column: number) =>
    row >= 0 && column >= 0 && row < size && column < size && modules.get(row, column) === 1;
  const lines: string[] = [];
  for (let row = -QUIET_ZONE; row < size + QUIET_ZONE; row += 2) {
    let line = "";
    for (let column = -QUIET_ZONE; column < size + QUIET_ZONE; column++) {
      const top = dark(row, column);
      const bottom = dark(row + 1, column);
      line += top && bottom ? " " : top ? "▄" : bottom ? "▀" : "█";
    }
    lines.push(line);
  }
  return lines.join("\n");
}
