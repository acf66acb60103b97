import assert from "node:assert/strict";
import { COMMANDS } from "./commands.ts";
import { completionScript } from "./completions.ts";
import { GLOBAL_OPTIONS } from "./options.ts";
import { commandHelp } from "./usage.ts";

Deno.test("each command's help and bash completions list exactly the flags it declares", () => {
  const bash = completionScript("bash", COMMANDS);
  for (const command of COMMANDS) {
    const declared = command.options.map((option) => `--${option.name}`);
    // An option line ("  --out DIR ..."), not a mention in prose.
    const documented = [...commandHelp(command).matchAll(/^ {2}(--[a-z][a-z-]*)/gm)]
      .map((match) => match[1]);
    assert.deepEqual(documented, declared, `help for ${command.name}`);
    const completed = bash.match(new RegExp(`^ {4}${command.name}\\) flags="([^"]*)"`, "m"));
    assert.deepEqual(
      completed?.[1].split(" "),
      [...declared, "--help", "--verbose"],
      `completions for ${command.name}`,
    );
  }
  assert.deepEqual(GLOBAL_OPTIONS.map((option) => option.name), ["help", "version", "verbose"]);
});
