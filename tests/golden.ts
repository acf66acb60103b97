/**
 * Golden wire samples: each module's golden test encodes canonical messages
 * and compares them with `tests/fixtures/<name>.hex`. A wire change fails
 * those tests until the protocol version is bumped and the fixtures are
 * rewritten with `P2PFT_UPDATE_FIXTURES=1 deno task test <module>/golden_test.ts`.
 */
const FIXTURES = new URL("./fixtures/", import.meta.url);

function toHex(bytes: Uint8Array): string {
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return hex.replace(/(.{64})/g, "$1\n").trim() + "\n";
}

/** The fixture's bytes; with P2PFT_UPDATE_FIXTURES=1 it is (re)written from `actual` first. */
export async function golden(name: string, actual: Uint8Array): Promise<Uint8Array> {
  const file = new URL(`${name}.hex`, FIXTURES);
  if (Deno.env.get("P2PFT_UPDATE_FIXTURES") === "1") await Deno.writeTextFile(file, toHex(actual));
  const text = await Deno.readTextFile(file);
  const hex = text.replace(/\s+/g, "");
  return Uint8Array.from(hex.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}
