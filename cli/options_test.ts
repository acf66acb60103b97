import assert from "node:assert/strict";
import { UsageError } from "../base/mod.ts";
import { TRANSPORT_CHOICES } from "../peer/mod.ts";
import { DEFAULT_RENDEZVOUS_PORT } from "../rendezvous/mod.ts";
import { COMMANDS } from "./commands.ts";
import { parseCommandLine } from "./options.ts";
import { TRANSPORTS } from "./peer_commands.ts";
import { DEFAULT_SERVE_PORT } from "./tool_commands.ts";

function usageError(argv: string[]): string {
  try {
    parseCommandLine(argv, COMMANDS);
  } catch (error) {
    assert.ok(error instanceof UsageError, String(error));
    assert.ok(!error.message.includes("\n"), error.message);
    return error.message;
  }
  assert.fail(`${argv.join(" ")} parsed`);
}

Deno.test("the copies kept to parse without loading peer/ and rendezvous/ match them", () => {
  assert.deepEqual(TRANSPORTS, TRANSPORT_CHOICES);
  assert.equal(DEFAULT_SERVE_PORT, DEFAULT_RENDEZVOUS_PORT);
});

Deno.test("parseCommandLine finds the command after flags and reads its values", () => {
  const input = parseCommandLine(
    ["--rendezvous", "h:1", "send", "a", "--timeout=5", "-", "--json", "--", "--b"],
    COMMANDS,
  );
  assert.equal(input.command?.name, "send");
  assert.deepEqual(input.args, ["a", "-", "--b"]);
  assert.equal(input.string("rendezvous"), "h:1");
  assert.equal(input.string("timeout"), "5");
  assert.equal(input.flag("json"), true);
  assert.equal(input.flag("qr"), false);
  assert.equal(parseCommandLine(["send", "--text", "-"], COMMANDS).string("text"), "-");
  assert.equal(parseCommandLine(["send", "--text=--x"], COMMANDS).string("text"), "--x");
  assert.equal(parseCommandLine(["-h"], COMMANDS).flag("help"), true);
  assert.equal(parseCommandLine(["receive", "--help"], COMMANDS).command?.name, "receive");
});

Deno.test("a flag another command declares is a usage error naming this command's flags", () => {
  assert.match(
    usageError(["receive", "7-a-b", "--qr"]),
    /^Unknown option --qr for "receive" \(its options: --out, --stdout, --yes, .*--verbose\)$/,
  );
  assert.match(usageError(["completions", "bash", "--yes"]), /--yes for "completions"/);
  assert.match(usageError(["--bogus"]), /^Unknown option --bogus before a command/);
  assert.match(usageError(["send", "-x"]), /^Unknown option -x for "send"/);
  // A command that takes paths says how to give one that starts with "-"; a typo'd --flag is not one.
  assert.match(
    usageError(["send", "-notes.txt"]),
    /--verbose\); a file whose name starts with "-" is written \.\/-notes\.txt \(or after --\)$/,
  );
  assert.doesNotMatch(usageError(["send", "--bogus"]), /starts with "-"/);
  assert.doesNotMatch(usageError(["receive", "7-a-b", "-x"]), /starts with "-"/);
});

Deno.test("values: missing, option-like, not a choice, given to a switch; one line each", () => {
  assert.equal(
    usageError(["send", "a", "--timeout"]),
    "--timeout needs a value (--timeout SECONDS)",
  );
  assert.match(
    usageError(["send", "a", "--code", "--json"]),
    /--code needs a value .*--code=--json/,
  );
  assert.equal(
    usageError(["send", "a", "--transport", "udp"]),
    'Invalid --transport "udp": expected one of auto, quic, tcp',
  );
  assert.equal(usageError(["send", "a", "--qr=1"]), '--qr takes no value, got "--qr=1"');
  assert.match(usageError(["bogus"]), /^Unknown command "bogus" \(known: send, receive, serve/);
  assert.equal(usageError(["receive"]), '"receive" needs a code');
  assert.equal(usageError(["serve", "x"]), '"serve" takes no arguments, got 1: x');
  assert.equal(
    usageError(["completions", "bash", "zsh"]),
    '"completions" takes at most 1 argument, got 2: bash zsh',
  );
});
