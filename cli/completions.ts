/**
 * `p2pft completions bash|zsh|fish`: a completion script for subcommands,
 * their flags, and the words of a code after `receive N-`.
 */
import { UsageError } from "../errors.ts";
import { codeWords } from "../peer/mod.ts";

/** Flags each subcommand takes (main.ts's OPTIONS, grouped as the help texts list them). */
export const COMMAND_FLAGS: Record<string, readonly string[]> = {
  send: [
    "--code",
    "--rendezvous",
    "--timeout",
    "--stall-timeout",
    "--qr",
    "--allow-changing",
    "--no-relay",
    "--relay-only",
    "--transport",
    "--tcp",
    "--text",
    "--name",
    "--receivers",
    "--no-local",
    "--json",
    "--verbose",
  ],
  receive: [
    "--out",
    "--yes",
    "--stdout",
    "--rendezvous",
    "--timeout",
    "--stall-timeout",
    "--no-relay",
    "--relay-only",
    "--transport",
    "--tcp",
    "--no-local",
    "--json",
    "--verbose",
  ],
  serve: [
    "--host",
    "--port",
    "--no-relay",
    "--store",
    "--public-address",
    "--metrics",
    "--json",
    "--verbose",
  ],
  doctor: ["--rendezvous", "--json", "--verbose"],
  completions: [],
  help: [],
};

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = typeof SHELLS[number];

/** The completion script for `shell`; a `UsageError` names the shells there are. */
export function completionScript(shell: string): string {
  switch (shell) {
    case "bash":
      return bashScript();
    case "zsh":
      // zsh runs the bash function through bashcompinit: one script to keep right.
      return `#compdef p2pft\nautoload -U +X bashcompinit && bashcompinit\n${bashScript()}`;
    case "fish":
      return fishScript();
    default:
      throw new UsageError(
        `Cannot print completions for shell "${shell}": use one of ${SHELLS.join(", ")}`,
      );
  }
}

const COMMANDS = Object.keys(COMMAND_FLAGS);

function bashScript(): string {
  const cases = COMMANDS.map((command) =>
    `    ${command}) flags="${COMMAND_FLAGS[command].join(" ")}" ;;`
  ).join("\n");
  return `# p2pft completion for bash: source it, or put it in ~/.local/share/bash-completion/completions/p2pft
_p2pft_code_words="${codeWords().join(" ")}"
_p2pft() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  local command="\${COMP_WORDS[1]}"
  local prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${COMMANDS.join(" ")} --help --version" -- "$cur"))
    return
  fi
  local flags=""
  case "$command" in
${cases}
  esac
  case "$command:$prev" in
    completions:completions) COMPREPLY=($(compgen -W "${SHELLS.join(" ")}" -- "$cur")); return ;;
    help:help) COMPREPLY=($(compgen -W "${COMMANDS.join(" ")}" -- "$cur")); return ;;
    *:--out) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    *:--code|*:--rendezvous|*:--timeout|*:--stall-timeout|*:--text|*:--name|*:--receivers|*:--host|*:--port) return ;;
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

function fishScript(): string {
  const lines = [
    "# p2pft completion for fish: save as ~/.config/fish/completions/p2pft.fish",
    "complete -c p2pft -f",
    `complete -c p2pft -n __fish_use_subcommand -a "${COMMANDS.join(" ")}"`,
    `complete -c p2pft -n "__fish_seen_subcommand_from completions" -a "${SHELLS.join(" ")}"`,
    `complete -c p2pft -n "__fish_seen_subcommand_from help" -a "${COMMANDS.join(" ")}"`,
    `complete -c p2pft -n "__fish_seen_subcommand_from send" -F`,
    `complete -c p2pft -n "__fish_seen_subcommand_from receive" -a "(__p2pft_code_words)"`,
  ];
  for (const command of COMMANDS) {
    for (const flag of COMMAND_FLAGS[command]) {
      lines.push(
        `complete -c p2pft -n "__fish_seen_subcommand_from ${command}" -l ${flag.slice(2)}`,
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
