/**
 * A tiny local-discovery peer for IO tests run in network namespaces, one JSON line per event:
 *   announce <nameplate> <ip> <port>       prints "announced", then "claimed"; stops at stdin EOF
 *   browse <nameplate> <ip> <port> <ms>    prints "found" (exit 0) or "error" (exit 1)
 */
import { toHex } from "../base/mod.ts";
import { announce, browse, type LocalPairing } from "./mod.ts";

function emit(event: Record<string, unknown>): void {
  Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(event) + "\n"));
}

function describe(pairing: LocalPairing): Record<string, unknown> {
  return {
    found: pairing.found,
    nameplate: pairing.nameplate,
    token: toHex(pairing.token),
    selfId: toHex(pairing.selfId),
    peerId: toHex(pairing.peer.id),
    candidates: pairing.peer.candidates.map((c) => `${c.hostname}:${c.port}`),
    fingerprint: pairing.peer.fingerprint && toHex(pairing.peer.fingerprint),
  };
}

const [mode, nameplate, ip, port, timeoutMs] = Deno.args;
const candidates: Deno.NetAddr[] = [{ transport: "udp", hostname: ip, port: Number(port) }];
if (mode === "announce") {
  const fingerprint = Uint8Array.from({ length: 32 }, (_, i) => i);
  await using announcement = await announce({ nameplate, candidates, fingerprint });
  emit({
    event: "announced",
    token: toHex(announcement.token),
    selfId: toHex(announcement.selfId),
  });
  emit({ event: "claimed", ...describe(await announcement.receiver()) });
  for await (const _ of Deno.stdin.readable) {
    // Keep answering the receiver's claims until the test closes our stdin.
  }
} else if (mode === "browse") {
  try {
    emit({
      event: "found",
      ...describe(await browse(nameplate, { candidates, timeoutMs: Number(timeoutMs) })),
    });
  } catch (error) {
    emit({ event: "error", name: (error as Error).name, message: (error as Error).message });
    Deno.exitCode = 1;
  }
} else {
  throw new TypeError(`Unknown mode ${mode}: use announce or browse`);
}
