import assert from "node:assert/strict";
import { COMMAND_FLAGS } from "./completions.ts";
import { COMMAND_HELP } from "./usage.ts";

Deno.test("completions offer exactly the flags each command's help lists (and --verbose)", () => {
  for (const [command, help] of Object.entries(COMMAND_HELP)) {
    // An option line ("  --out DIR ...") or a usage bracket ("[--json]"), not a mention in prose.
    const documented = new Set(
      [...help.matchAll(/(?:^ {2}|\[)(--[a-z][a-z-]*)/gm)].map((match) => match[1]),
    );
    if (documented.size > 0) documented.add("--verbose");
    assert.deepEqual(
      [...COMMAND_FLAGS[command]].sort(),
      [...documented].sort(),
      `completions for ${command}`,
    );
  }
});
