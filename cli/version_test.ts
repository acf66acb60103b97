/**
 * `p2pft --version` prints each layer's wire versions from that layer's `version_mod.ts`: modules
 * without imports, so that the version costs no layer's code (it loaded all of them, ~0.2 s of
 * CPU). What it prints is checked against the layers themselves in tests/cli_input_test.ts.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { PAKE_VERSION } from "../pake/mod.ts";
import { PROBE_VERSION, TLS_LINK_VERSION } from "../peer/mod.ts";
import { PROTOCOL_VERSION as RENDEZVOUS_VERSION } from "../rendezvous/mod.ts";
import { LOCAL_VERSION } from "../local/mod.ts";
import { PROTOCOL_VERSION, SPOKEN_VERSION } from "../transfer/mod.ts";
import { versionText } from "./tool_commands.ts";

const VERSION_MODULES = ["rendezvous", "peer", "pake", "transfer", "local"]
  .map((layer) => new URL(`../${layer}/version_mod.ts`, import.meta.url));

Deno.test("each layer's version_mod.ts imports nothing", async () => {
  for (const module of VERSION_MODULES) {
    const info = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", fileURLToPath(module)],
      stdout: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    assert.ok(info.success, "deno info failed");
    const modules = JSON.parse(new TextDecoder().decode(info.stdout)).modules as unknown[];
    assert.equal(modules.length, 1, module.pathname);
  }
});

Deno.test("versionText names the versions each layer speaks", async () => {
  assert.match(
    await versionText(),
    new RegExp(
      `^p2pft \\S+ \\(protocols: rendezvous ${RENDEZVOUS_VERSION}, local ${LOCAL_VERSION}, ` +
        `punch ${PROBE_VERSION}, tls-link ${TLS_LINK_VERSION}, pake ${PAKE_VERSION}, ` +
        `transfer ${SPOKEN_VERSION} and ${PROTOCOL_VERSION}\\)$`,
    ),
  );
});
