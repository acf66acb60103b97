/**
 * p2pft command line: parses arguments against the command's declared flags
 * (cli/commands.ts), wires Ctrl-C to one AbortController, runs the command
 * and maps errors to one line and an exit code.
 */
import { COMMANDS } from "./cli/commands.ts";
import { describeFailure } from "./cli/exit_code.ts";
import { asksForJson, parseCommandLine } from "./cli/options.ts";
import { Output } from "./cli/output.ts";
import { commandHelp, mainHelp } from "./cli/usage.ts";
import { versionText } from "./cli/tool_commands.ts";

const EXIT_INTERRUPTED = 130;

async function main(argv: string[]): Promise<number> {
  let input;
  try {
    input = parseCommandLine(argv, COMMANDS);
  } catch (error) {
    // A script that asked for --json gets its `error` event even when the line did not parse.
    return await fail(error, asksForJson(argv, COMMANDS), false);
  }
  const command = input.command;
  if (input.flag("version")) {
    console.log(await versionText());
    return 0;
  }
  if (command === undefined || input.flag("help")) {
    console.log(command === undefined ? mainHelp(COMMANDS) : commandHelp(command));
    return 0;
  }
  const json = command.options.some((option) => option.name === "json") && input.flag("json");
  const verbose = input.flag("verbose");
  const controller = new AbortController();
  const onInterrupt = () => controller.abort(new DOMException("Interrupted", "AbortError"));
  // SIGTERM (service managers) stops like Ctrl-C; Windows has only SIGINT/SIGBREAK.
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const name of signals) Deno.addSignalListener(name, onInterrupt);
  const output = new Output({ json, role: command.role, ...command.output?.(input) });
  try {
    const text = await command.run(input, {
      output,
      signal: controller.signal,
      commands: COMMANDS,
    });
    if (typeof text === "string") console.log(text);
    return 0;
  } catch (error) {
    if (controller.signal.aborted) {
      output.emit({ type: "error", message: "Interrupted" });
      return EXIT_INTERRUPTED;
    }
    return await fail(error, json, verbose, output);
  } finally {
    for (const name of signals) Deno.removeSignalListener(name, onInterrupt);
    // The events still waiting for a slow reader go out before the exit (Ctrl-C now ends it).
    await output.flushed();
  }
}

async function fail(
  error: unknown,
  json: boolean,
  verbose: boolean,
  output = new Output({ json, role: "serve" }),
): Promise<number> {
  const failure = describeFailure(error);
  output.emit({
    type: "error",
    message: failure.message,
    ...(failure.declined ? { declined: true } : {}),
  });
  await output.flushed();
  if (verbose) { for (const detail of failure.details) console.error(detail); }
  return failure.exitCode;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
