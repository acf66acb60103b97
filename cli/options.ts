/**
 * The command line's grammar: each command declares its flags once (an
 * `OptionSpec` list in cli/commands.ts); this parser, the help texts
 * (cli/usage.ts) and the shell completions (cli/completions.ts) all read
 * that declaration, so a flag cannot be parsed without being documented, or
 * accepted by a command it does nothing for.
 */
import { nearest, UsageError } from "../base/mod.ts";
import type { Output, OutputOptions } from "./output.ts";

/** One flag of a command. */
export interface OptionSpec {
  /** Without the dashes: `stall-timeout`. */
  name: string;
  type: "string" | "boolean";
  /** One-letter alias (`-h`). */
  short?: string;
  /** The value's placeholder in help (`SECONDS`); string options only. */
  value?: string;
  /** The only values taken: checked when parsed, offered by completions, shown in help. */
  choices?: readonly string[];
  /** What a shell completes as the value: a folder. Otherwise nothing (it is typed). */
  complete?: "dir";
  /** What it does, one paragraph; help wraps it. */
  help: string;
}

/** A command: its words, its flags, its help, and how it runs. */
export interface CommandSpec {
  name: string;
  /** Its usage lines, each after `p2pft `; the first names its positional arguments. */
  usage: readonly string[];
  /** What it does: the help text between the usage and the options. */
  about: string;
  options: readonly OptionSpec[];
  /** How many positional arguments it takes, and what to say when too few. */
  args: { min: number; max: number; missing: string };
  /** Who speaks in its output (`serve` also for the commands that only report). */
  role: OutputOptions["role"];
  /** Where its output goes when not the default (receive --stdout: all but the bytes to stderr). */
  output?(input: CommandInput): Partial<OutputOptions>;
  /**
   * Runs it, and returns what to print on stdout when the command is a text
   * (help, a completion script). Each implementation is loaded here, so one
   * command never loads another's code.
   */
  run(input: CommandInput, context: CommandContext): Promise<string | void>;
}

export interface CommandContext {
  output: Output;
  signal: AbortSignal;
  /** Every command, for the ones that describe them (help, completions). */
  commands: readonly CommandSpec[];
}

/** The flags every command takes, listed once in the general help. */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { name: "help", type: "boolean", short: "h", help: "show this command's help" },
  { name: "version", type: "boolean", short: "V", help: "print the version and protocols" },
  { name: "verbose", type: "boolean", help: "with an error, also print the causes behind it" },
];

/** `--json`, for the commands that report events. */
export const JSON_OPTION: OptionSpec = {
  name: "json",
  type: "boolean",
  help: "one JSON event per line on stdout",
};

/** What the user typed for one command, read through its declaration. */
export class CommandInput {
  readonly #spec: CommandSpec | undefined;
  readonly #values: Map<string, string | boolean>;
  /** The positional arguments after the command's name. */
  readonly args: readonly string[];

  constructor(
    spec: CommandSpec | undefined,
    values: Map<string, string | boolean>,
    args: readonly string[],
  ) {
    this.#spec = spec;
    this.#values = values;
    this.args = args;
  }

  /** The command given, or undefined when none was. */
  get command(): CommandSpec | undefined {
    return this.#spec;
  }

  /** A string flag's value, or undefined when not given. */
  string(name: string): string | undefined {
    const value = this.#values.get(this.#declared(name, "string"));
    return typeof value === "string" ? value : undefined;
  }

  /** Whether a boolean flag was given. */
  flag(name: string): boolean {
    return this.#values.get(this.#declared(name, "boolean")) === true;
  }

  /** A flag the command does not declare is a bug in its runner, not the user's error. */
  #declared(name: string, type: OptionSpec["type"]): string {
    const known = [...GLOBAL_OPTIONS, ...(this.#spec?.options ?? [])];
    if (!known.some((option) => option.name === name && option.type === type)) {
      throw new Error(`"${this.#spec?.name}" reads ${type} --${name}, which it does not declare`);
    }
    return name;
  }
}

/**
 * Parses `argv`: the command is the first positional argument (flags may come
 * before it), and every flag must be one the command declares or a global
 * one. Each mistake is one `UsageError` line naming what would be right.
 */
export function parseCommandLine(argv: readonly string[], commands: readonly CommandSpec[]) {
  const all = [...GLOBAL_OPTIONS, ...commands.flatMap((command) => command.options)];
  const at = commandIndex(argv, all);
  if (at === -1) {
    return new CommandInput(undefined, readTokens(argv, GLOBAL_OPTIONS, undefined), []);
  }
  const name = argv[at];
  const spec = commands.find((command) => command.name === name);
  if (spec === undefined) throw unknownCommand(name, commands);
  const rest = [...argv.slice(0, at), ...argv.slice(at + 1)];
  const args: string[] = [];
  const values = readTokens(rest, [...spec.options, ...GLOBAL_OPTIONS], spec, args);
  if (!values.has("help") && !values.has("version")) checkArgs(spec, args);
  return new CommandInput(spec, values, args);
}

function checkArgs(spec: CommandSpec, args: readonly string[]): void {
  if (args.length < spec.args.min) {
    throw new UsageError(`"${spec.name}" needs ${spec.args.missing}`);
  }
  if (args.length > spec.args.max) {
    const most = spec.args.max === 0
      ? "no arguments"
      : `at most ${spec.args.max} argument${spec.args.max === 1 ? "" : "s"}`;
    throw new UsageError(`"${spec.name}" takes ${most}, got ${args.length}: ${args.join(" ")}`);
  }
}

/** `Unknown command "recieve": did you mean "receive"? (known: send, receive, …)`. */
export function unknownCommand(name: string, commands: readonly CommandSpec[]): UsageError {
  const names = commands.map((command) => command.name);
  const near = typo(name, names);
  return new UsageError(
    `Unknown command "${name}"${near ? `: did you mean "${near}"?` : ""} (known: ${
      names.join(", ")
    })`,
  );
}

/**
 * The known name `written` is most likely a typo of (case, a swap, up to half its letters wrong,
 * one for a short name), if any.
 */
function typo(written: string, known: readonly string[]): string | undefined {
  const word = written.toLowerCase();
  return nearest(word, known, Math.max(2, Math.ceil(word.length / 2)));
}

/**
 * Whether a line that did not parse asked for `--json` of a command that has it: a command
 * without --json (completions, help) reports even that mistake as one plain line.
 */
export function asksForJson(argv: readonly string[], commands: readonly CommandSpec[]): boolean {
  if (!argv.includes("--json")) return false;
  const all = [...GLOBAL_OPTIONS, ...commands.flatMap((command) => command.options)];
  const at = commandIndex(argv, all);
  const spec = at === -1 ? undefined : commands.find((command) => command.name === argv[at]);
  return spec === undefined || spec.options.some((option) => option.name === "json");
}

/** Where the command's name is: the first argument that is neither a flag nor a flag's value. */
function commandIndex(argv: readonly string[], options: readonly OptionSpec[]): number {
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === "--") return i + 1 < argv.length ? i + 1 : -1;
    if (!token.startsWith("-") || token === "-") return i;
    const option = options.find((candidate) => `--${candidate.name}` === token);
    if (option?.type === "string" && i + 1 < argv.length && !argv[i + 1].startsWith("--")) i++;
  }
  return -1;
}

function readTokens(
  tokens: readonly string[],
  options: readonly OptionSpec[],
  spec: CommandSpec | undefined,
  positionals: string[] = [],
): Map<string, string | boolean> {
  const values = new Map<string, string | boolean>();
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token === "--") {
      positionals.push(...tokens.slice(i + 1));
      break;
    }
    if (!token.startsWith("-") || token === "-") {
      positionals.push(token);
      continue;
    }
    const equals = token.startsWith("--") ? token.indexOf("=") : -1;
    const written = equals === -1 ? token : token.slice(0, equals);
    const option = options.find((candidate) =>
      written === `--${candidate.name}` ||
      (candidate.short !== undefined && written === `-${candidate.short}`)
    );
    if (option === undefined) throw unknownOption(written, options, spec);
    if (option.type === "boolean") {
      if (equals !== -1) throw new UsageError(`${written} takes no value, got "${token}"`);
      values.set(option.name, true);
      continue;
    }
    values.set(
      option.name,
      equals !== -1
        ? checkedChoice(written, option, token.slice(equals + 1))
        : checkedValue(written, option, tokens[++i]),
    );
  }
  return values;
}

function checkedValue(written: string, option: OptionSpec, value: string | undefined): string {
  const wanted = option.value ?? "VALUE";
  if (value === undefined) throw new UsageError(`${written} needs a value (${written} ${wanted})`);
  // "--timeout --json" forgot the value; "--timeout -5" is a wrong value, said as such below.
  if (value.startsWith("--")) {
    throw new UsageError(
      `${written} needs a value (${written} ${wanted}), got the option ${value}; ` +
        `a value that starts with "--" is written ${written}=${value}`,
    );
  }
  return checkedChoice(written, option, value);
}

function checkedChoice(written: string, option: OptionSpec, value: string): string {
  if (option.choices !== undefined && !option.choices.includes(value)) {
    throw new UsageError(
      `Invalid ${written} "${value}": expected one of ${option.choices.join(", ")}`,
    );
  }
  return value;
}

function unknownOption(
  written: string,
  options: readonly OptionSpec[],
  spec: CommandSpec | undefined,
): UsageError {
  const names = options.map((option) => `--${option.name}`).join(", ");
  const near = typo(
    written.replace(/^--?/, "").split("=")[0],
    options.map((option) => option.name),
  );
  const guess = near ? `: did you mean --${near}?` : "";
  // `send -notes.txt`: a file whose name starts with "-" looks like an option.
  const path = spec !== undefined && spec.args.max > 1 && !written.startsWith("--")
    ? `; a file whose name starts with "-" is written ./${written} (or after --)`
    : "";
  return new UsageError(
    spec === undefined
      ? `Unknown option ${written} before a command${guess} (p2pft COMMAND [options]; here only ${names})`
      : `Unknown option ${written} for "${spec.name}"${guess} (its options: ${names})${path}`,
  );
}
