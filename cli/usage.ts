/** Help texts, written from each command's declaration (cli/options.ts `CommandSpec`). */
import { type CommandSpec, GLOBAL_OPTIONS, type OptionSpec } from "./options.ts";

const WIDTH = 100;
/** Where an option's description starts. */
const HELP_COLUMN = 26;

/** `p2pft help` / `p2pft --help`: every command's usage with its flags, and the global ones. */
export function mainHelp(commands: readonly CommandSpec[]): string {
  const usage = commands.flatMap((command) => {
    const [first, ...more] = command.usage;
    const words = [`p2pft ${first.replace(" [options]", "")}`, ...command.options.map(synopsis)];
    const lines = [wrapWords(words, "        ", WIDTH - 8)];
    return [...lines, ...more.map((line) => `p2pft ${line}`)];
  });
  return `p2pft: send files directly between two computers, through NATs, end to end encrypted.

Usage:
${usage.map((line) => `  ${line}`).join("\n")}
  p2pft --version

Options for every command:
${optionLines(GLOBAL_OPTIONS)}

The rendezvous server defaults to $P2PFT_RENDEZVOUS (HOST:PORT; empty: unset). Without one, the
two computers find each other on the local network only; with one, on the local network too
(--no-local: not).
"p2pft help COMMAND" tells more about one command.`;
}

/** `p2pft help COMMAND` / `p2pft COMMAND --help`. */
export function commandHelp(command: CommandSpec): string {
  // The later lines line up under the first, after "Usage: ".
  const usage = command.usage.map((line, i) => `${i === 0 ? "Usage: " : "       "}p2pft ${line}`);
  const options = command.options.length === 0
    ? ""
    : `\n\nOptions:\n${optionLines(command.options)}`;
  return `${usage.join("\n")}\n\n${command.about}${options}\n\n` +
    `Every command also takes ${GLOBAL_OPTIONS.map(flagText).join(", ")} (see p2pft --help).`;
}

/** `--transport auto|quic|tcp`, `--out DIR`, `--json`. */
function flagText(option: OptionSpec): string {
  const short = option.short === undefined ? "" : `-${option.short}, `;
  if (option.type === "boolean") return `${short}--${option.name}`;
  return `${short}--${option.name} ${option.choices?.join("|") ?? option.value ?? "VALUE"}`;
}

function synopsis(option: OptionSpec): string {
  return `[${flagText(option)}]`;
}

function optionLines(options: readonly OptionSpec[]): string {
  return options.map((option) => {
    const flag = `  ${flagText(option)}`;
    const indent = " ".repeat(HELP_COLUMN);
    const help = wrap(option.help, indent, WIDTH - HELP_COLUMN);
    return flag.length < HELP_COLUMN
      ? `${flag.padEnd(HELP_COLUMN)}${help}`
      : `${flag}\n${indent}${help}`;
  }).join("\n");
}

/** Breaks `text` into lines of at most `width` characters, joined by a newline and `indent`. */
function wrap(text: string, indent: string, width: number): string {
  return wrapWords(text.split(/\s+/), indent, width);
}

/** Like `wrap`, breaking only between `words` (a `[--flag VALUE]` stays on one line). */
function wrapWords(words: readonly string[], indent: string, width: number): string {
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines.join(`\n${indent}`);
}
