/** What peer/ takes from transfer/, which it carries: types, and nothing else but one limit. */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

interface InfoModule {
  specifier: string;
  dependencies?: { specifier: string; code?: { specifier: string } }[];
}

Deno.test("peer/ modules import values from transfer/ only for its stream limit", async () => {
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", fileURLToPath(new URL("mod.ts", import.meta.url))],
    stdout: "piped",
    stderr: "inherit",
    signal: AbortSignal.timeout(60_000),
  }).output();
  assert.ok(info.success, "deno info failed");
  const peer = new URL("./", import.meta.url).href;
  const transfer = new URL("../transfer/", import.meta.url).href;
  const importers = (JSON.parse(new TextDecoder().decode(info.stdout)).modules as InfoModule[])
    .filter((module) => module.specifier.startsWith(peer))
    .filter((module) =>
      (module.dependencies ?? []).some((dependency) =>
        dependency.code?.specifier.startsWith(transfer)
      )
    )
    .map((module) => module.specifier.replace(peer, ""));
  // data_streams.ts caps QUIC's streams at the transfer protocol's MAX_STREAMS. Anything the
  // transfer decides (sizes, how many streams an offer opens) is passed in by the caller.
  assert.deepEqual(importers, ["link/data_streams.ts"]);
});
