/**
 * p2pft command line: parses arguments, wires Ctrl-C to one AbortController,
 * dispatches to a command and maps errors to one line and an exit code.
 */
import { parseArgs } from "node:util";
import denoJson from "./deno.json" with { type: "json" };
import { UsageError } from "./errors.ts";
import {
  DEFAULT_RENDEZVOUS_PORT,
  PROTOCOL_VERSION as RENDEZVOUS_VERSION,
} from "./rendezvous/mod.ts";
import { PAKE_VERSION } from "./pake/mod.ts";
import {
  PROBE_VERSION,
  type RelayMode,
  TRANSPORT_CHOICES,
  type TransportChoice,
} from "./peer/mod.ts";
import { PROTOCOL_VERSION as TRANSFER_VERSION } from "./transfer/mod.ts";
import { Output } from "./cli/output.ts";
import { receiveCommand } from "./cli/receive_command.ts";
import { sendCommand } from "./cli/send_command.ts";
import { serveCommand } from "./cli/serve_command.ts";
import { COMMAND_HELP, MAIN_HELP } from "./cli/usage.ts";
import { completionScript } from "./cli/completions.ts";
import { doctorCommand } from "./cli/doctor_command.ts";
import { describeFailure } from "./cli/exit_code.ts";

const EXIT_INTERRUPTED = 130;
const DEFAULT_SERVE_PORT = DEFAULT_RENDEZVOUS_PORT;
const DEFAULT_SEND_TIMEOUT_SECONDS = 600;
/**
 * How long a receiver waits for a sender that has not registered yet (README,
 * "Either side first"): 0, "No sender is waiting" at once, as before `--timeout`.
 */
const DEFAULT_RECEIVE_TIMEOUT_SECONDS = 0;
const DEFAULT_STALL_TIMEOUT_SECONDS = 30;

const OPTIONS = {
  code: { type: "string" },
  rendezvous: { type: "string" },
  timeout: { type: "string" },
  "stall-timeout": { type: "string" },
  out: { type: "string" },
  yes: { type: "boolean" },
  host: { type: "string" },
  port: { type: "string" },
  store: { type: "string" },
  "public-address": { type: "string" },
  metrics: { type: "string" },
  json: { type: "boolean" },
  qr: { type: "boolean" },
  "allow-changing": { type: "boolean" },
  "no-relay": { type: "boolean" },
  "relay-only": { type: "boolean" },
  text: { type: "string" },
  name: { type: "string" },
  receivers: { type: "string" },
  stdout: { type: "boolean" },
  transport: { type: "string" },
  tcp: { type: "boolean" },
  "no-local": { type: "boolean" },
  verbose: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    return fail(new UsageError((error as Error).message, { cause: error }), false, false);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  const json = values.json ?? false;
  if (values.version) {
    console.log(
      `p2pft ${denoJson.version} (protocols: rendezvous ${RENDEZVOUS_VERSION}, punch ${PROBE_VERSION}, ` +
        `pake ${PAKE_VERSION}, transfer ${TRANSFER_VERSION})`,
    );
    return 0;
  }
  if (command === undefined || command === "help" || values.help) {
    const topic = command === "help" ? rest[0] : command;
    console.log(topic && COMMAND_HELP[topic] ? COMMAND_HELP[topic] : MAIN_HELP);
    return 0;
  }
  const controller = new AbortController();
  const onInterrupt = () => controller.abort(new DOMException("Interrupted", "AbortError"));
  // SIGTERM (service managers) stops like Ctrl-C; Windows has only SIGINT/SIGBREAK.
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const name of signals) Deno.addSignalListener(name, onInterrupt);
  const output = new Output({
    json,
    role: command === "receive" ? "receive" : command === "send" ? "send" : "serve",
    // With --stdout the received bytes own stdout: everything else goes to stderr.
    ...(command === "receive" && values.stdout ? { stdout: Deno.stderr } : {}),
  });
  try {
    await dispatch(command, rest, values, output, controller.signal);
    return 0;
  } catch (error) {
    if (controller.signal.aborted) {
      output.emit({ type: "error", message: "Interrupted" });
      return EXIT_INTERRUPTED;
    }
    return fail(error, json, values.verbose ?? false, output);
  } finally {
    for (const name of signals) Deno.removeSignalListener(name, onInterrupt);
  }
}

function dispatch(
  command: string,
  args: string[],
  values: {
    [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]["type"] extends "string" ? string : boolean;
  },
  output: Output,
  signal: AbortSignal,
): Promise<void> {
  switch (command) {
    case "serve":
      expectArgs(command, args, 0, 0);
      return serveCommand({
        // Absent: the server binds "::" (dual-stack), or 0.0.0.0 on a host without IPv6.
        host: values.host,
        port: integerFlag("--port", values.port, DEFAULT_SERVE_PORT, 0, 65533),
        relay: !values["no-relay"],
        store: values.store,
        publicAddress: values["public-address"],
        metrics: values.metrics,
        output,
        signal,
      });
    case "send":
      expectArgs(command, args, values.text === undefined ? 1 : 0, Infinity);
      return sendCommand(args, {
        code: values.code,
        rendezvous: values.rendezvous,
        relay: relayMode(values),
        transport: transportChoice(values.transport),
        tcp: values.tcp ?? false,
        local: !values["no-local"],
        qr: values.qr ?? false,
        allowChanging: values["allow-changing"] ?? false,
        text: values.text,
        name: values.name,
        receivers: integerFlag("--receivers", values.receivers, 1, 1, 1000),
        timeoutSeconds: integerFlag(
          "--timeout",
          values.timeout,
          DEFAULT_SEND_TIMEOUT_SECONDS,
          1,
          86400,
        ),
        stallTimeoutSeconds: stallTimeout(values["stall-timeout"]),
        output,
        signal,
      });
    case "receive":
      expectArgs(command, args, 1, 1);
      return receiveCommand(args[0], {
        out: values.out ?? ".",
        yes: values.yes ?? false,
        stdout: stdoutFlag(values),
        rendezvous: values.rendezvous,
        relay: relayMode(values),
        local: !values["no-local"],
        timeoutSeconds: integerFlag(
          "--timeout",
          values.timeout,
          DEFAULT_RECEIVE_TIMEOUT_SECONDS,
          0,
          86400,
        ),
        stallTimeoutSeconds: stallTimeout(values["stall-timeout"]),
        transport: transportChoice(values.transport),
        tcp: values.tcp ?? false,
        output,
        signal,
      });
    case "doctor":
      expectArgs(command, args, 0, 0);
      return doctorCommand({ rendezvous: values.rendezvous, output, signal });
    case "completions":
      expectArgs(command, args, 1, 1);
      console.log(completionScript(args[0]));
      return Promise.resolve();
    default:
      throw new UsageError(
        `Unknown command "${command}" (try: send, receive, serve, doctor, completions, help)`,
      );
  }
}

function stallTimeout(text: string | undefined): number {
  return integerFlag("--stall-timeout", text, DEFAULT_STALL_TIMEOUT_SECONDS, 1, 86400);
}

function stdoutFlag(values: { stdout?: boolean; out?: string }): boolean {
  if (values.stdout && values.out !== undefined) {
    throw new UsageError("--stdout writes nothing to disk; it takes no --out");
  }
  return values.stdout ?? false;
}

function relayMode(values: { "no-relay"?: boolean; "relay-only"?: boolean }): RelayMode {
  if (values["no-relay"] && values["relay-only"]) {
    throw new UsageError("--no-relay and --relay-only contradict each other");
  }
  return values["relay-only"] ? "only" : values["no-relay"] ? "never" : "auto";
}

function transportChoice(value: string | undefined): TransportChoice {
  if (value === undefined) return "auto";
  if (!(TRANSPORT_CHOICES as readonly string[]).includes(value)) {
    throw new UsageError(
      `Invalid --transport "${value}": expected one of ${TRANSPORT_CHOICES.join(", ")}`,
    );
  }
  return value as TransportChoice;
}

function expectArgs(command: string, args: string[], min: number, max: number): void {
  if (args.length < min) {
    throw new UsageError(
      `"${command}" needs ${
        command === "receive"
          ? "a code"
          : command === "completions"
          ? "a shell"
          : "at least one path"
      }`,
    );
  }
  if (args.length > max) {
    throw new UsageError(
      `"${command}" takes ${max} arguments, got ${args.length}: ${args.join(" ")}`,
    );
  }
}

function integerFlag(
  name: string,
  text: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (text === undefined) return fallback;
  // Decimal digits only: Number() would also take "0x10", "1e3" and " 7 ".
  const value = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${name} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

function fail(error: unknown, json: boolean, verbose: boolean, output?: Output): number {
  const failure = describeFailure(error);
  (output ?? new Output({ json, role: "serve" })).emit({ type: "error", message: failure.message });
  if (verbose) { for (const detail of failure.details) console.error(detail); }
  return failure.exitCode;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
