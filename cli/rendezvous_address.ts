import { UsageError } from "../base/mod.ts";
import type { RelayMode, ServerName, TransportChoice } from "../peer/mod.ts";
import { DEFAULT_RENDEZVOUS_PORT } from "../rendezvous/wire/checks_mod.ts";
import { parseArgument } from "./exit_code.ts";
import { parseHostPort } from "./parse_host_port.ts";

/** The environment variable that names the default rendezvous server. */
export const RENDEZVOUS_ENV = "P2PFT_RENDEZVOUS";

/**
 * `--rendezvous`, else $P2PFT_RENDEZVOUS: `HOST:PORT`, or several separated
 * by commas (instances sharing rooms, tried in turn when one stops
 * answering); else "none": then the peers look for each other on the local
 * network only. An empty variable is an unset one (`P2PFT_RENDEZVOUS= p2pft
 * send`, as with NO_COLOR); an empty flag asked for a server and named none,
 * an unset variable in `--rendezvous "$VAR"` most often: a `UsageError`.
 */
export function rendezvousAddresses(
  flag: string | undefined,
): ServerName[] | "none" {
  if (flag !== undefined && flag.trim() === "") {
    throw new UsageError(
      `--rendezvous is empty (an unset variable in --rendezvous "$VAR"?); to find the peer on ` +
        `the local network only, leave --rendezvous out`,
    );
  }
  const text = flag ?? Deno.env.get(RENDEZVOUS_ENV);
  if (text === undefined || text.trim() === "") return "none";
  // A name that then does not resolve also says where it came from.
  const source = flag === undefined
    ? { source: `set by ${RENDEZVOUS_ENV}: fix or unset it, or pass --rendezvous HOST:PORT` }
    : {};
  try {
    return text.split(",").map((part) => ({
      ...parseArgument(() => parseHostPort(part.trim(), DEFAULT_RENDEZVOUS_PORT)),
      ...source,
    }));
  } catch (error) {
    if (flag !== undefined || !(error instanceof UsageError)) throw error;
    // Not typed on this command line: say where it came from, or the user looks in vain.
    throw new UsageError(
      `${RENDEZVOUS_ENV}="${text}" (from the environment): ${error.message}; ` +
        `fix or unset it, or pass --rendezvous HOST:PORT`,
      { cause: error },
    );
  }
}

/**
 * How send and receive find the peer: the rendezvous server if one is
 * configured, and the local network unless `--no-local` (or `--relay-only`,
 * which wants the server's relay) turns it off. A combination that cannot
 * work is a `UsageError` here, before a code is spent.
 */
export function peerFinding(
  flag: string | undefined,
  options: { local: boolean; relay: RelayMode; tcp?: boolean; transport?: TransportChoice },
): { rendezvous?: ServerName[]; local: boolean } {
  const address = rendezvousAddresses(flag);
  // A side on TCP to the server cannot punch: a peer paired through the server can never use
  // QUIC, and whether local discovery finds it first is a race. (Without a server --tcp does
  // nothing and QUIC on the local network works.)
  if (address !== "none" && options.tcp && options.transport === "quic") {
    const lanOff = options.relay === "only"
      ? ", and --relay-only leaves out the local network"
      : !options.local
      ? ", and --no-local leaves out the local network"
      : " (QUIC on the local network needs no --tcp)";
    throw new UsageError(
      `--transport quic needs UDP between the peers, but --tcp reaches the rendezvous server over ` +
        `TCP only, and a peer paired through it cannot use QUIC${lanOff}: drop --tcp or ` +
        `--transport quic`,
    );
  }
  if (address !== "none") {
    return { rendezvous: address, local: options.local && options.relay !== "only" };
  }
  if (options.relay === "only") {
    throw new UsageError(
      `--relay-only needs a rendezvous server: pass --rendezvous HOST:PORT or set ${RENDEZVOUS_ENV}`,
    );
  }
  if (!options.local) {
    throw new UsageError(
      `No way to find the peer: --no-local turns off the local network and no rendezvous server is ` +
        `configured (pass --rendezvous HOST:PORT or set ${RENDEZVOUS_ENV}=HOST:PORT; run one with \`p2pft serve\`)`,
    );
  }
  return { local: true };
}
