/**
 * `send` and `receive`, declared: their flags, help and runners. Each runner
 * loads its command's code when it runs, so a transfer never loads the
 * server's, doctor's or the completions' modules.
 */
import { UsageError, warmCrypto } from "../base/mod.ts";
import type { TransportChoice } from "../peer/mod.ts";
import type { OnExisting } from "../transfer/mod.ts";
import { integerFlag, relayMode, stallTimeout, transportChoice } from "./flag_values.ts";
import { type CommandSpec, JSON_OPTION, type OptionSpec } from "./options.ts";
import type { ReceiveCommandOptions } from "./receive_command.ts";
import type { SendCommandOptions } from "./send_command.ts";

const DEFAULT_SEND_TIMEOUT_SECONDS = 600;
/**
 * How long a receiver waits for a sender that has not registered yet (README, "Sending between two
 * machines", and rendezvous/PROTOCOL.md, "Client timing"): 0, "No sender is waiting" at once, as
 * before `--timeout`.
 */
const DEFAULT_RECEIVE_TIMEOUT_SECONDS = 0;

/** peer/'s TRANSPORT_CHOICES (a test keeps them equal; importing it would load peer/ to parse). */
export const TRANSPORTS: readonly TransportChoice[] = ["auto", "quic", "tcp"];

const NO_LOCAL: OptionSpec = {
  name: "no-local",
  type: "boolean",
  help: "do not announce the code on the local network",
};

const STALL_TIMEOUT: OptionSpec = {
  name: "stall-timeout",
  type: "string",
  value: "SECONDS",
  help: "fail when no byte moved for this long (default 30); partials are kept",
};

/** The options send and receive share: how the two reach each other, and the output. */
const LINK_OPTIONS: readonly OptionSpec[] = [
  {
    name: "no-relay",
    type: "boolean",
    help: "never relay through the rendezvous server (fail instead)",
  },
  {
    name: "relay-only",
    type: "boolean",
    help: "always relay (still end-to-end encrypted); the other side must allow the relay",
  },
  {
    name: "transport",
    type: "string",
    value: "T",
    choices: TRANSPORTS,
    help: "the link's transport (default auto: TLS over TCP on the LAN and through the relay, " +
      "QUIC on a punched path across NATs); quic or tcp only: the other side must allow it too",
  },
  {
    name: "tcp",
    type: "boolean",
    help: "reach the rendezvous server over TCP from the start (it is used anyway when UDP " +
      "gets no answer within a second); a peer paired over TCP cannot use QUIC, so with a " +
      "server --tcp --transport quic is refused",
  },
  JSON_OPTION,
];

export const SEND: CommandSpec = {
  name: "send",
  usage: [
    "send <paths...> [options]",
    "send --text TEXT [options]    (--text - reads the text from stdin)",
    "send - [--name NAME] [options]",
  ],
  about: `Sends files and folders, a short text (up to 64 KiB), or stdin as one file of unknown size
(tar c dir | p2pft send -; such a stream cannot be resumed if interrupted, and goes to one
receiver). Prints a code such as 7-lunar-crystal; give it to the receiver.
The number names a room on the rendezvous server; the words are a password that never leaves
the two computers.`,
  options: [
    {
      name: "code",
      type: "string",
      value: "CODE",
      help:
        "use this code instead of a random one (a number and at least 2 words from the word list)",
    },
    {
      name: "rendezvous",
      type: "string",
      value: "HOST:PORT",
      help: "rendezvous server (default: $P2PFT_RENDEZVOUS; none: the code is announced on the " +
        "local network only); several instances sharing rooms as A:PORT,B:PORT, tried in turn " +
        "when one stops answering",
    },
    NO_LOCAL,
    {
      name: "timeout",
      type: "string",
      value: "SECONDS",
      help: "how long to wait for the receiver, and again for it to accept (default 600)",
    },
    STALL_TIMEOUT,
    { name: "qr", type: "boolean", help: "also show the code as a QR code" },
    {
      name: "text",
      type: "string",
      value: "TEXT",
      help: 'send this text instead of files ("-": read it from stdin); an empty one is refused',
    },
    {
      name: "name",
      type: "string",
      value: "NAME",
      help: 'the file name a stream from stdin gets (default "stdin")',
    },
    {
      name: "receivers",
      type: "string",
      value: "N",
      help: "serve N receivers, one after another, with the same code (each its own pairing and " +
        "check of the code; a wrong code still ends it). A receiver who comes while another is " +
        "receiving is told the code is in use",
    },
    {
      name: "allow-changing",
      type: "boolean",
      help: 'a file that keeps changing while read is sent as read (listed in "done") instead ' +
        "of failing; a file that changes once is always sent again",
    },
    ...LINK_OPTIONS,
  ],
  args: { min: 0, max: Infinity, missing: "at least one path" },
  role: "send",
  async run(input, { output, signal }) {
    void warmCrypto();
    const text = input.string("text");
    if (input.args.length === 0 && text === undefined) {
      throw new UsageError(`"send" needs at least one path`);
    }
    const options: SendCommandOptions = {
      code: input.string("code"),
      rendezvous: input.string("rendezvous"),
      relay: relayMode(input),
      transport: transportChoice(input),
      tcp: input.flag("tcp"),
      local: !input.flag("no-local"),
      qr: input.flag("qr"),
      allowChanging: input.flag("allow-changing"),
      text,
      name: input.string("name"),
      receivers: integerFlag(input, "receivers", { fallback: 1, min: 1, max: 1000 }),
      timeoutSeconds: integerFlag(input, "timeout", {
        fallback: DEFAULT_SEND_TIMEOUT_SECONDS,
        min: 1,
        max: 86400,
      }),
      stallTimeoutSeconds: stallTimeout(input),
      output,
      signal,
    };
    const { sendCommand } = await import("./send_command.ts");
    await sendCommand([...input.args], options);
  },
};

export const RECEIVE: CommandSpec = {
  name: "receive",
  usage: ["receive <code> [options]"],
  about:
    `Receives what the sender offers into --out. Never overwrites a file; an interrupted transfer
leaves NAME.p2pft-partial (a new folder: .NAME.p2pft-partial). A code works once: to continue,
the sender runs send again and you run receive with its new code and the same --out. The code's
words are checked against the word list and --out must be writable before anyone is contacted.`,
  options: [
    {
      name: "out",
      type: "string",
      value: "DIR",
      complete: "dir",
      help: "folder to write into (default: the current folder)",
    },
    {
      name: "stdout",
      type: "boolean",
      help: "write the one file (or the text) to stdout, nothing to disk; other output goes to " +
        "stderr. An offer of several files is refused. The bytes are out before the SHA-256 at " +
        "the end is checked: a mismatch exits non-zero",
    },
    {
      name: "yes",
      type: "boolean",
      help: "accept without asking (needed when stdin is not a terminal)",
    },
    {
      name: "existing",
      type: "string",
      value: "WHAT",
      choices: ["rename", "skip"],
      help: "what to do with an offered name that already exists in --out (shown before you " +
        "accept): rename (default) writes the new one beside it as NAME (1).EXT, skip leaves it " +
        "out. Nothing is ever overwritten; an identical file is skipped either way",
    },
    {
      name: "rendezvous",
      type: "string",
      value: "HOST:PORT",
      help: "rendezvous server (default: $P2PFT_RENDEZVOUS; none: the sender is looked for on " +
        "the local network only, for 5 s or --timeout); several instances sharing rooms as " +
        "A:PORT,B:PORT, tried in turn",
    },
    { ...NO_LOCAL, help: "do not look for the sender on the local network" },
    {
      name: "timeout",
      type: "string",
      value: "SECONDS",
      help:
        "with a code agreed beforehand (send --code), wait this long for the sender to start, " +
        "or for a sender serving several receivers to get to you (default 0: fail at once when " +
        "no sender is waiting or it is busy); the local network is searched this long, or 5 s " +
        "with 0",
    },
    STALL_TIMEOUT,
    ...LINK_OPTIONS,
  ],
  args: { min: 1, max: 1, missing: "a code" },
  role: "receive",
  // With --stdout the received bytes own stdout: everything else goes to stderr.
  output: (input) => input.flag("stdout") ? { stdout: Deno.stderr } : {},
  async run(input, { output, signal }) {
    void warmCrypto();
    const stdout = input.flag("stdout");
    if (stdout && input.string("out") !== undefined) {
      throw new UsageError("--stdout writes nothing to disk; it takes no --out");
    }
    const options: ReceiveCommandOptions = {
      out: input.string("out") ?? ".",
      yes: input.flag("yes"),
      existing: (input.string("existing") ?? "rename") as OnExisting,
      stdout,
      rendezvous: input.string("rendezvous"),
      relay: relayMode(input),
      local: !input.flag("no-local"),
      timeoutSeconds: integerFlag(input, "timeout", {
        fallback: DEFAULT_RECEIVE_TIMEOUT_SECONDS,
        min: 0,
        max: 86400,
      }),
      stallTimeoutSeconds: stallTimeout(input),
      transport: transportChoice(input),
      tcp: input.flag("tcp"),
      output,
      signal,
    };
    const { receiveCommand } = await import("./receive_command.ts");
    await receiveCommand(input.args[0], options);
  },
};
