/**
 * `p2pft completions bash|zsh|fish`: a completion script for subcommands,
 * the flags each declares (and their values where there is a choice), and the
 * words of a code after `receive N-`.
 */
import { UsageError } from "../base/mod.ts";
import { codeWords } from "../peer/mod.ts";
import { type CommandSpec, GLOBAL_OPTIONS, type OptionSpec } from "./options.ts";

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = typeof SHELLS[number];

/** The completion script for `shell`; a `UsageError` names the shells there are. */
export function completionScript(shell: string, commands: readonly CommandSpec[]): string {
  switch (shell) {
    case "bash":
      return bashScript(commands);
    case "zsh":
      // zsh runs the bash function through bashcompinit: one script to keep right.
      return `#compdef p2pft\nautoload -U +X bashcompinit && bashcompinit\n${bashScript(commands)}`;
    case "fish":
      return fishScript(commands);
    default:
      throw new UsageError(
        `Cannot print completions for shell "${shell}": use one of ${SHELLS.join(", ")}`,
      );
  }
}

/** A command's flags, then the ones every command takes. */
function flagsOf(command: CommandSpec): OptionSpec[] {
  return [...command.options, ...GLOBAL_OPTIONS.filter((option) => option.name !== "version")];
}

/** The `case "$command:$prev"` arms that complete (or, typed values, do not) a flag's value. */
function bashValueCases(commands: readonly CommandSpec[]): string {
  const typed: string[] = [];
  const arms: string[] = [];
  for (const command of commands) {
    for (const option of command.options.filter((option) => option.type === "string")) {
      const label = `${command.name}:--${option.name}`;
      if (option.choices !== undefined) {
        arms.push(
          `${label}) COMPREPLY=($(compgen -W "${option.choices.join(" ")}" -- "$cur")); return ;;`,
        );
      } else if (option.complete === "dir") {
        arms.push(`${label}) COMPREPLY=($(compgen -d -- "$cur")); return ;;`);
      } else {
        typed.push(label);
      }
    }
  }
  return [...arms, `${typed.join("|")}) return ;;`].map((arm) => `    ${arm}`).join("\n");
}

function bashScript(commands: readonly CommandSpec[]): string {
  const names = commands.map((command) => command.name).join(" ");
  const cases = commands.map((command) =>
    `    ${command.name}) flags="${
      flagsOf(command).map((option) => `--${option.name}`).join(" ")
    }" ;;`
  ).join("\n");
  return `# p2pft completion for bash: source it, or put it in ~/.local/share/bash-completion/completions/p2pft
_p2pft_code_words="${codeWords().join(" ")}"
_p2pft() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  local command="\${COMP_WORDS[1]}"
  local prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${names} --help --version" -- "$cur"))
    return
  fi
  local flags=""
  case "$command" in
${cases}
  esac
  case "$command:$prev" in
    completions:completions) COMPREPLY=($(compgen -W "${SHELLS.join(" ")}" -- "$cur")); return ;;
    help:help) COMPREPLY=($(compgen -W "${names}" -- "$cur")); return ;;
${bashValueCases(commands)}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  elif [ "$command" = receive ] && [[ "$cur" =~ ^[0-9]+- ]]; then
    COMPREPLY=($(compgen -W "$_p2pft_code_words" -P "\${cur%-*}-" -- "\${cur##*-}"))
  elif [ "$command" = send ]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o default -F _p2pft p2pft
`;
}

function fishScript(commands: readonly CommandSpec[]): string {
  const names = commands.map((command) => command.name).join(" ");
  const lines = [
    "# p2pft completion for fish: save as ~/.config/fish/completions/p2pft.fish",
    "complete -c p2pft -f",
    `complete -c p2pft -n __fish_use_subcommand -a "${names}"`,
    `complete -c p2pft -n "__fish_seen_subcommand_from completions" -a "${SHELLS.join(" ")}"`,
    `complete -c p2pft -n "__fish_seen_subcommand_from help" -a "${names}"`,
    `complete -c p2pft -n "__fish_seen_subcommand_from send" -F`,
    `complete -c p2pft -n "__fish_seen_subcommand_from receive" -a "(__p2pft_code_words)"`,
  ];
  for (const command of commands) {
    for (const option of flagsOf(command)) {
      const short = option.short === undefined ? "" : ` -s ${option.short}`;
      lines.push(
        `complete -c p2pft -n "__fish_seen_subcommand_from ${command.name}"${short} ` +
          `-l ${option.name}${fishValue(option)}`,
      );
    }
  }
  lines.push(
    "function __p2pft_code_words",
    "  set -l token (commandline -ct)",
    "  string match -qr '^[0-9]+-' -- $token; or return",
    "  set -l prefix (string replace -r '[^-]*$' '' -- $token)",
    `  for word in ${codeWords().join(" ")}`,
    '    echo "$prefix$word"',
    "  end",
    "end",
  );
  return `${lines.join("\n")}\n`;
}

/** What fish offers after a flag: its choices, folders, or nothing (a typed value). */
function fishValue(option: OptionSpec): string {
  if (option.type === "boolean") return "";
  if (option.choices !== undefined) return ` -x -a "${option.choices.join(" ")}"`;
  return option.complete === "dir" ? ' -x -a "(__fish_complete_directories)"' : " -x";
}
