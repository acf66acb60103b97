/**
 * `serve`, `doctor`, `completions` and `help`, declared: their flags, help
 * and runners, each loading its implementation only when it runs.
 */
import { integerFlag } from "./flag_values.ts";
import { type CommandSpec, JSON_OPTION, unknownCommand } from "./options.ts";
import type { ServeCommandOptions } from "./serve_command.ts";

/** The rendezvous port `serve` binds by default (rendezvous/'s DEFAULT_RENDEZVOUS_PORT). */
export const DEFAULT_SERVE_PORT = 9000;

export const SERVE: CommandSpec = {
  name: "serve",
  usage: ["serve [options]"],
  about: `Runs a rendezvous server (UDP, and TCP for networks that block UDP). It sees room numbers
and addresses, never the code's words or any file data.`,
  options: [
    {
      name: "host",
      type: "string",
      value: "ADDR",
      help: "address to bind (default ::, IPv4 and IPv6; 0.0.0.0 for IPv4 only, or when this " +
        "host has no IPv6; an IPv6 address for IPv6 only)",
    },
    {
      name: "port",
      type: "string",
      value: "N",
      help: "UDP and TCP port (default 9000; N+1 on UDP checks NATs, N+2 relays on UDP and TCP; " +
        "0 picks free ports and reports them)",
    },
    {
      name: "no-relay",
      type: "boolean",
      help: "do not relay (UDP or TCP) for peers that find no direct path",
    },
    {
      name: "store",
      type: "string",
      value: "redis://HOST:PORT[/DB]",
      help: "keep rooms in Redis, shared by every instance given the same store, so peers that " +
        "reached different instances pair, and a restart loses no room (default: in this " +
        "process's memory)",
    },
    {
      name: "public-address",
      type: "string",
      value: "HOST",
      help: "where peers reach this instance's relay when they registered at another instance: " +
        "a host name, IPv4 or IPv6 address (default: --host; needed with --store when --host " +
        "is :: or 0.0.0.0)",
    },
    {
      name: "metrics",
      type: "string",
      value: "HOST:PORT",
      help: "serve Prometheus metrics (text format) at http://HOST:PORT/metrics",
    },
    {
      name: "relay-rate",
      type: "string",
      value: "MBPS",
      help: "cap each relayed transfer at MBPS megabytes a second, both directions together " +
        "(default: no cap)",
    },
    {
      name: "relay-max-bytes",
      type: "string",
      value: "SIZE",
      help: "end a relayed transfer once it carried SIZE (8GiB, 500MB, bytes); both peers are " +
        "told and the partial resumes with the next send (default: no cap)",
    },
    {
      name: "relay-sessions",
      type: "string",
      value: "N",
      help: "relay at most N transfers at once; more are refused before they start (default 64)",
    },
    JSON_OPTION,
  ],
  args: { min: 0, max: 0, missing: "" },
  role: "serve",
  async run(input, { output, signal }) {
    const options: ServeCommandOptions = {
      // Absent: the server binds "::" (dual-stack), or 0.0.0.0 on a host without IPv6.
      host: input.string("host"),
      port: integerFlag(input, "port", { fallback: DEFAULT_SERVE_PORT, min: 0, max: 65533 }),
      relay: !input.flag("no-relay"),
      store: input.string("store"),
      publicAddress: input.string("public-address"),
      metrics: input.string("metrics"),
      relayRate: input.string("relay-rate"),
      relayMaxBytes: input.string("relay-max-bytes"),
      relaySessions: input.string("relay-sessions") === undefined
        ? undefined
        : integerFlag(input, "relay-sessions", { fallback: 0, min: 1, max: 1_000_000 }),
      output,
      signal,
    };
    const { serveCommand } = await import("./serve_command.ts");
    await serveCommand(options);
  },
};

export const DOCTOR: CommandSpec = {
  name: "doctor",
  usage: ["doctor [options]"],
  about:
    `Tells why a connection might not work, each line with a verdict (ok, info, warning, fail): this
host's addresses, whether the rendezvous server answers over UDP and over TCP, the NAT mapping its
two ports see, whether IPv6 works here, whether local discovery sees other p2pft peers, and which
path two peers like this one would likely get. Talks only to the rendezvous server (and multicast
DNS on this host's networks, unless --no-local). With no server configured it checks what this
host can alone (its addresses, IPv6, local discovery) and says the server's checks were not run.
Exits 1 when a check fails. Attach --json output to bug reports.`,
  options: [
    {
      name: "rendezvous",
      type: "string",
      value: "HOST:PORT",
      help: "the rendezvous server to check (default: $P2PFT_RENDEZVOUS)",
    },
    {
      name: "no-local",
      type: "boolean",
      help: "skip local discovery: no multicast DNS leaves this host",
    },
    JSON_OPTION,
  ],
  args: { min: 0, max: 0, missing: "" },
  role: "serve",
  async run(input, { output, signal }) {
    const { doctorCommand } = await import("./doctor_command.ts");
    await doctorCommand({
      rendezvous: input.string("rendezvous"),
      local: !input.flag("no-local"),
      output,
      signal,
    });
  },
};

export const COMPLETIONS: CommandSpec = {
  name: "completions",
  usage: ["completions bash|zsh|fish"],
  about: `Prints a completion script: subcommands, their flags, and the words of a code after
"receive 7-". For bash: p2pft completions bash > ~/.local/share/bash-completion/completions/p2pft
For fish: p2pft completions fish > ~/.config/fish/completions/p2pft.fish`,
  options: [],
  args: { min: 1, max: 1, missing: "a shell (bash, zsh or fish)" },
  role: "serve",
  async run(input, { commands }) {
    const { completionScript } = await import("./completions.ts");
    return completionScript(input.args[0], commands);
  },
};

export const HELP: CommandSpec = {
  name: "help",
  usage: ["help [command]"],
  about: "Prints the help of a command, or this overview.",
  options: [],
  args: { min: 0, max: 1, missing: "" },
  role: "serve",
  async run(input, { commands }) {
    const { commandHelp, mainHelp } = await import("./usage.ts");
    const topic = input.args[0];
    if (topic === undefined) return mainHelp(commands);
    const spec = commands.find((command) => command.name === topic);
    if (spec === undefined) throw unknownCommand(topic, commands);
    return commandHelp(spec);
  },
};

/**
 * `--version`: p2pft's and each protocol's version (the only time these modules load to print).
 * The transfer protocol shows the newest version this peer speaks, then the oldest it still works
 * with, its wire's version byte (transfer/PROTOCOL.md, "Versioning"): "transfer 5 and 4".
 */
export async function versionText(): Promise<string> {
  // Each layer's versions alone (a module without imports each), not the layers (~0.2 s of CPU).
  const [denoJson, rendezvous, peer, pake, transfer, local] = await Promise.all([
    import("../deno.json", { with: { type: "json" } }),
    import("../rendezvous/version_mod.ts"),
    import("../peer/version_mod.ts"),
    import("../pake/version_mod.ts"),
    import("../transfer/version_mod.ts"),
    import("../local/version_mod.ts"),
  ]);
  const spoken: number = transfer.SPOKEN_VERSION;
  const transferVersions = spoken === transfer.PROTOCOL_VERSION
    ? `${spoken}`
    : `${spoken} and ${transfer.PROTOCOL_VERSION}`;
  return `p2pft ${denoJson.default.version} (protocols: rendezvous ${rendezvous.PROTOCOL_VERSION}, ` +
    `local ${local.LOCAL_VERSION}, punch ${peer.PROBE_VERSION}, tls-link ${peer.TLS_LINK_VERSION}, ` +
    `pake ${pake.PAKE_VERSION}, transfer ${transferVersions})`;
}
