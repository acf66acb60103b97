/** `p2pft completions`: the printed scripts load in their shell and complete what they should. */
import assert from "node:assert/strict";
import { boundedTest } from "./bounded.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

async function run(command: string, args: string[], signal: AbortSignal) {
  const output = await new Deno.Command(command, { args, stdin: "null", signal }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

async function bashComplete(script: string, words: string[], signal: AbortSignal) {
  const line = `source ${script}; COMP_WORDS=(${
    words.map((word) => `'${word}'`).join(" ")
  }); COMP_CWORD=${words.length - 1}; _p2pft; complete -p p2pft; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = await run("bash", ["--norc", "-c", line], signal);
  assert.equal(result.code, 0, result.stderr);
  const [registered, ...replies] = result.stdout.trimEnd().split("\n");
  assert.match(registered, /^complete .*-F _p2pft p2pft$/);
  return replies.filter((reply) => reply !== "");
}

boundedTest(
  "completions for bash load in bash -n and complete subcommands, flags and code words",
  async (signal) => {
    const dir = await Deno.makeTempDir({ prefix: "p2pft-completions-" });
    try {
      const printed = await run(
        Deno.execPath(),
        ["run", "-A", MAIN, "completions", "bash"],
        signal,
      );
      assert.equal(printed.code, 0, printed.stderr);
      const script = `${dir}/p2pft.bash`;
      await Deno.writeTextFile(script, printed.stdout);
      const syntax = await run("bash", ["-n", script], signal);
      assert.equal(syntax.code, 0, syntax.stderr);

      assert.ok((await bashComplete(script, ["p2pft", "se"], signal)).includes("send"));
      assert.deepEqual(await bashComplete(script, ["p2pft", "sen"], signal), ["send"]);
      assert.deepEqual(await bashComplete(script, ["p2pft", "receive", "--std"], signal), [
        "--stdout",
      ]);
      assert.deepEqual(await bashComplete(script, ["p2pft", "send", "--rece"], signal), [
        "--receivers",
      ]);
      assert.deepEqual(
        await bashComplete(script, ["p2pft", "receive", "7-lantern-crow"], signal),
        ["7-lantern-crowd"],
      );
      // Each command offers only its own flags, and a flag's choices as its value.
      assert.deepEqual(await bashComplete(script, ["p2pft", "receive", "--q"], signal), []);
      assert.deepEqual(await bashComplete(script, ["p2pft", "completions", "bash", "--"], signal), [
        "--help",
        "--verbose",
      ]);
      assert.deepEqual(
        await bashComplete(script, ["p2pft", "send", "--transport", ""], signal),
        ["auto", "quic", "tcp"],
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

boundedTest(
  "completions for fish and zsh print a script; another shell is a usage error",
  async (signal) => {
    const fish = await run(Deno.execPath(), ["run", "-A", MAIN, "completions", "fish"], signal);
    assert.equal(fish.code, 0, fish.stderr);
    assert.match(fish.stdout, /complete -c p2pft -n __fish_use_subcommand -a "send receive/);
    const zsh = await run(Deno.execPath(), ["run", "-A", MAIN, "completions", "zsh"], signal);
    assert.equal(zsh.code, 0, zsh.stderr);
    assert.match(zsh.stdout, /^#compdef p2pft\n/);
    const other = await run(Deno.execPath(), ["run", "-A", MAIN, "completions", "tcsh"], signal);
    assert.equal(other.code, 2);
    assert.equal(other.stdout, "");
    assert.match(other.stderr, /shell "tcsh": use one of bash, zsh, fish/);
  },
);
