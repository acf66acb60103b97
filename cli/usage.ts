/** Help texts, one per command. */

export const MAIN_HELP =
  `p2pft: send files directly between two computers, through NATs, end to end encrypted.

Usage:
  p2pft send <paths...> [--code CODE] [--rendezvous HOST:PORT] [--timeout SECONDS] [--qr]
                        [--allow-changing] [--receivers N] [--stall-timeout SECONDS]
                        [--no-relay | --relay-only] [--transport T] [--tcp]
                        [--no-local] [--json]
  p2pft send --text TEXT|-  [options]     p2pft send - [--name NAME] [options]
  p2pft receive <code> [--out DIR | --stdout] [--yes] [--rendezvous HOST:PORT] [--timeout SECONDS]
                       [--stall-timeout SECONDS] [--no-relay | --relay-only] [--transport T]
                       [--tcp] [--no-local] [--json]
  p2pft serve [--host ADDR] [--port N] [--no-relay] [--store redis://HOST:PORT[/DB]]
              [--public-address HOST] [--metrics HOST:PORT] [--json]
  p2pft doctor [--rendezvous HOST:PORT] [--json]
  p2pft completions bash|zsh|fish
  p2pft help <command>
  p2pft --version

The rendezvous server defaults to $P2PFT_RENDEZVOUS (HOST:PORT). Without one, the two computers
find each other on the local network only; with one, on the local network too (--no-local: not).
Add --verbose to see the causes behind an error.`;

/** The options send and receive share: how the two reach each other, and the output. */
const LINK_OPTIONS =
  `  --no-relay              never relay through the rendezvous server (fail instead)
  --relay-only            always relay (still end-to-end encrypted)
  --transport auto|quic|tcp
                          the link's transport (default auto: TLS over TCP on the LAN and
                          through the relay, QUIC on a punched path across NATs)
  --tcp                   reach the rendezvous server over TCP from the start (it is used
                          anyway when UDP gets no answer within a second)
  --json                  one JSON event per line on stdout`;

export const COMMAND_HELP: Record<string, string> = {
  send: `p2pft send <paths...> [options]
       p2pft send --text TEXT [options]    (--text - reads the text from stdin)
       p2pft send - [--name NAME] [options]

Sends files and folders, a short text (up to 64 KiB), or stdin as one file of unknown size
(tar c dir | p2pft send -; such a stream cannot be resumed if interrupted, and goes to one receiver).
Prints a code such as 7-lunar-crystal; give it to the receiver.
The number names a room on the rendezvous server; the words are a password that never leaves
the two computers.

Options:
  --code CODE             use this code instead of a random one (a number and at least 2 words
                          from the word list)
  --rendezvous HOST:PORT  rendezvous server (default: $P2PFT_RENDEZVOUS; none: the code is
                          announced on the local network only); several instances sharing rooms
                          as A:PORT,B:PORT, tried in turn when one stops answering
  --no-local              do not announce the code on the local network
  --timeout SECONDS       how long to wait for the receiver, and again for it to accept
                          (default 600)
  --stall-timeout SECONDS fail when no byte moved for this long (default 30); partials are kept
  --qr                    also show the code as a QR code
  --text TEXT             send this text instead of files ("-": read it from stdin)
  --name NAME             the file name a stream from stdin gets (default "stdin")
  --receivers N           serve N receivers, one after another, with the same code (each its own
                          pairing and check of the code; a wrong code still ends it). A receiver
                          who comes while another is receiving is told the code is in use
  --allow-changing        a file that keeps changing while read is sent as read (listed in
                          "done") instead of failing; a file that changes once is always sent again
${LINK_OPTIONS}`,
  receive: `p2pft receive <code> [options]

Receives what the sender offers into --out. Never overwrites a file; an interrupted transfer
leaves NAME.p2pft-partial. A code works once: to continue, the sender runs send again and you run
receive with its new code and the same --out. The code's words are checked against the word list
and --out must be writable before anyone is contacted.

Options:
  --out DIR               folder to write into (default: the current folder)
  --stdout                write the one file (or the text) to stdout, nothing to disk; other
                          output goes to stderr. An offer of several files is refused. The
                          bytes are out before the SHA-256 at the end is checked: a mismatch
                          exits non-zero
  --yes                   accept without asking (needed when stdin is not a terminal)
  --rendezvous HOST:PORT  rendezvous server (default: $P2PFT_RENDEZVOUS; none: the sender is
                          looked for on the local network only, for 5 s or --timeout); several
                          instances sharing rooms as A:PORT,B:PORT, tried in turn
  --no-local              do not look for the sender on the local network
  --timeout SECONDS       with a code agreed beforehand (send --code), wait this long for the
                          sender to start (default 0: fail at once when no sender is waiting)
  --stall-timeout SECONDS fail when no byte moved for this long (default 30); partials are kept
${LINK_OPTIONS}`,
  serve: `p2pft serve [options]

Runs a rendezvous server (UDP, and TCP for networks that block UDP). It sees room numbers
and addresses, never the code's words or any file data.

Options:
  --host ADDR   address to bind (default ::, IPv4 and IPv6; 0.0.0.0 for IPv4 only, or
                when this host has no IPv6; an IPv6 address for IPv6 only)
  --port N      UDP and TCP port (default 9000; N+1 on UDP checks NATs, N+2 relays on UDP
                and TCP; 0 picks free ports and reports them)
  --no-relay    do not relay (UDP or TCP) for peers that find no direct path
  --store redis://HOST:PORT[/DB]
                keep rooms in Redis, shared by every instance given the same store, so peers
                that reached different instances pair, and a restart loses no room
                (default: in this process's memory)
  --public-address HOST
                where peers reach this instance's relay when they registered at another
                instance: a host name, IPv4 or IPv6 address (default: --host; needed with
                --store when --host is :: or 0.0.0.0)
  --metrics HOST:PORT
                serve Prometheus metrics (text format) at http://HOST:PORT/metrics
  --json        one JSON event per line on stdout`,
  doctor: `p2pft doctor [--rendezvous HOST:PORT] [--json]

Tells why a connection might not work, each line with a verdict (ok, info, warning, fail): this
host's addresses, whether the rendezvous server answers over UDP and over TCP, the NAT mapping its
two ports see, whether IPv6 works here, whether local discovery sees other p2pft peers, and which
path two peers like this one would likely get. Talks only to the rendezvous server (and multicast
DNS on this host's networks). Exits 1 when a check fails. Attach --json output to bug reports.`,
  completions: `p2pft completions bash|zsh|fish

Prints a completion script: subcommands, their flags, and the words of a code after
"receive 7-". For bash: p2pft completions bash > ~/.local/share/bash-completion/completions/p2pft
For fish: p2pft completions fish > ~/.config/fish/completions/p2pft.fish`,
};
