import { UsageError } from "../errors.ts";
import { DEFAULT_RENDEZVOUS_PORT } from "../rendezvous/mod.ts";
import { parseArgument } from "./exit_code.ts";
import { parseHostPort } from "./parse_host_port.ts";

/** The environment variable that names the default rendezvous server. */
export const RENDEZVOUS_ENV = "P2PFT_RENDEZVOUS";

/**
 * `--rendezvous`, else $P2PFT_RENDEZVOUS, else a UsageError saying how to get
 * one: `HOST:PORT`, or several separated by commas (instances sharing rooms,
 * tried in turn when one stops answering).
 */
export function rendezvousAddresses(
  flag: string | undefined,
): { hostname: string; port: number }[] {
  const text = flag ?? Deno.env.get(RENDEZVOUS_ENV);
  if (text === undefined || text.trim() === "") {
    throw new UsageError(
      `No rendezvous server: pass --rendezvous HOST:PORT or set ${RENDEZVOUS_ENV}=HOST:PORT ` +
        "(run one with `p2pft serve`)",
    );
  }
  return text.split(",").map((part) =>
    parseArgument(() => parseHostPort(part.trim(), DEFAULT_RENDEZVOUS_PORT))
  );
}
