/**
 * Golden wire samples: each module's golden test encodes canonical messages
 * and compares them with `tests/fixtures/<name>.hex`, whose first line names
 * the protocol version the bytes belong to. A wire change fails those tests
 * until the version is bumped and the fixtures are rewritten with
 * `P2PFT_UPDATE_FIXTURES=1 deno task test <module>/golden_test.ts`; rewriting
 * refuses changed bytes under an unchanged version.
 */
const FIXTURES = new URL("./fixtures/", import.meta.url);
const HEADER = /^# version (\d+)\n/;

interface Fixture {
  version: number | undefined;
  bytes: Uint8Array;
}

function format(version: number, bytes: Uint8Array): string {
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `# version ${version}\n${hex.replace(/(.{64})/g, "$1\n").trim()}\n`;
}

function parse(text: string): Fixture {
  const header = text.match(HEADER);
  const hex = text.slice(header?.[0].length ?? 0).replace(/\s+/g, "");
  return {
    version: header ? Number(header[1]) : undefined,
    bytes: Uint8Array.from(hex.match(/../g) ?? [], (pair) => parseInt(pair, 16)),
  };
}

async function readFixture(file: URL): Promise<Fixture | undefined> {
  try {
    return parse(await Deno.readTextFile(file));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/**
 * The fixture's bytes for protocol `version`. With P2PFT_UPDATE_FIXTURES=1 it
 * is (re)written from `actual` first, unless the bytes changed while the
 * version did not. Throws when the fixture belongs to another version.
 */
export async function golden(
  name: string,
  actual: Uint8Array,
  version: number,
): Promise<Uint8Array> {
  const file = new URL(`${name}.hex`, FIXTURES);
  const stored = await readFixture(file);
  if (Deno.env.get("P2PFT_UPDATE_FIXTURES") === "1") {
    if (
      stored && (stored.version ?? version) === version && !sameBytes(stored.bytes, actual)
    ) {
      throw new Error(
        `Cannot update fixture ${name}: its bytes changed but the protocol version is still ${version}; bump the version first`,
      );
    }
    await Deno.writeTextFile(file, format(version, actual));
    return actual;
  }
  if (stored === undefined) {
    throw new Error(`No fixture ${name}: write it with P2PFT_UPDATE_FIXTURES=1`);
  }
  if (stored.version !== version) {
    throw new Error(
      `Fixture ${name} holds version ${stored.version} samples but the protocol is version ${version}: rewrite it with P2PFT_UPDATE_FIXTURES=1`,
    );
  }
  return stored.bytes;
}
