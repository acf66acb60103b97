/** Help texts, one per command. */

export const MAIN_HELP =
  `p2pft: send files directly between two computers, through NATs, end to end encrypted.

Usage:
  p2pft send <paths...> [--code CODE] [--rendezvous HOST:PORT] [--timeout SECONDS] [--qr]
                        [--allow-changing] [--stall-timeout SECONDS] [--no-relay | --relay-only]
                        [--no-local] [--json]
  p2pft receive <code> [--out DIR] [--yes] [--rendezvous HOST:PORT] [--timeout SECONDS]
                       [--stall-timeout SECONDS] [--no-relay | --relay-only] [--no-local] [--json]
  p2pft serve [--host ADDR] [--port N] [--no-relay] [--json]
  p2pft help <command>
  p2pft --version

The rendezvous server defaults to $P2PFT_RENDEZVOUS (HOST:PORT). Without one, the two computers
find each other on the local network only; with one, on the local network too (--no-local: not).
Add --verbose to see the causes behind an error.`;

export const COMMAND_HELP: Record<string, string> = {
  send: `p2pft send <paths...> [options]

Sends files and folders. Prints a code such as 7-lunar-crystal; give it to the receiver.
The number names a room on the rendezvous server; the words are a password that never leaves
the two computers.

Options:
  --code CODE             use this code instead of a random one (a number and at least 2 words
                          from the word list)
  --rendezvous HOST:PORT  rendezvous server (default: $P2PFT_RENDEZVOUS; none: the code is
                          announced on the local network only)
  --no-local              do not announce the code on the local network
  --timeout SECONDS       how long to wait for the receiver, and again for it to accept
                          (default 600)
  --stall-timeout SECONDS fail when no byte moved for this long (default 30); partials are kept
  --qr                    also show the code as a QR code
  --allow-changing        a file that keeps changing while read is sent as read (listed in
                          "done") instead of failing; a file that changes once is always sent again
  --no-relay              never relay through the rendezvous server (fail instead)
  --relay-only            always relay (still end-to-end encrypted)
  --json                  one JSON event per line on stdout`,
  receive: `p2pft receive <code> [options]

Receives what the sender offers into --out. Never overwrites a file; an interrupted transfer
leaves NAME.p2pft-partial. A code works once: to continue, the sender runs send again and you run
receive with its new code and the same --out. The code's words are checked against the word list
and --out must be writable before anyone is contacted.

Options:
  --out DIR               folder to write into (default: the current folder)
  --yes                   accept without asking (needed when stdin is not a terminal)
  --rendezvous HOST:PORT  rendezvous server (default: $P2PFT_RENDEZVOUS; none: the sender is
                          looked for on the local network only, for 5 s or --timeout)
  --no-local              do not look for the sender on the local network
  --timeout SECONDS       with a code agreed beforehand (send --code), wait this long for the
                          sender to start (default 0: fail at once when no sender is waiting)
  --stall-timeout SECONDS fail when no byte moved for this long (default 30); partials are kept
  --no-relay              never relay through the rendezvous server (fail instead)
  --relay-only            always relay (still end-to-end encrypted)
  --json                  one JSON event per line on stdout`,
  serve: `p2pft serve [options]

Runs a rendezvous server (UDP, and TCP for networks that block UDP). It sees room numbers
and addresses, never the code's words or any file data.

Options:
  --host ADDR   address to bind (default 0.0.0.0)
  --port N      UDP and TCP port (default 9000; N+1 on UDP checks NATs, N+2 relays on UDP
                and TCP; 0 picks free ports and reports them)
  --no-relay    do not relay (UDP or TCP) for peers that find no direct path
  --json        one JSON event per line on stdout`,
};
