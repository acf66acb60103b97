/**
 * `p2pft doctor`: what this host looks like to p2pft, each line with a
 * verdict. Talks only to the configured rendezvous server, if any (and, for
 * local discovery, multicast DNS on this host's own networks).
 */
import {
  bindEitherStack,
  formatAddr,
  isReachableIpv6,
  osReason,
  P2pftError,
  parseIpv6,
} from "../base/mod.ts";
import { browseAll } from "../local/mod.ts";
import {
  DatagramMux,
  isIpv6,
  localCandidates,
  resolveServer,
  type ServerName,
} from "../peer/mod.ts";
import {
  connectRendezvousTcp,
  type DatagramPort,
  isRendezvousDatagram,
  observeNat,
} from "../rendezvous/mod.ts";
import { doctorChecks, type DoctorFacts, type Outcome, type ServerFacts } from "./doctor_checks.ts";
import type { Output } from "./output.ts";
import { rendezvousAddresses } from "./rendezvous_address.ts";

export interface DoctorCommandOptions {
  rendezvous?: string;
  /** Skip local discovery: no multicast DNS leaves this host. */
  local: boolean;
  output: Output;
  signal: AbortSignal;
}

/** How long each question to the server may take. */
const SERVER_TIMEOUT_MS = 3000;
/** How long local discovery listens for peers. */
const BROWSE_MS = 1500;

/** Runs every check, prints one line (or JSON event) each; fails if any check failed. */
export async function doctorCommand(options: DoctorCommandOptions): Promise<void> {
  const { output, signal } = options;
  const servers = rendezvousAddresses(options.rendezvous);
  // With no server, what this host can tell alone: its addresses, IPv6, local discovery.
  const [rendezvous, local] = await Promise.all([
    servers === "none" ? undefined : askServer(servers[0], signal),
    options.local ? outcome(() => browseLocal(signal)) : undefined,
  ]);
  signal.throwIfAborted();
  const facts: DoctorFacts = {
    ...(rendezvous ? { rendezvous } : {}),
    addresses: hostAddresses(),
    ipv6: ipv6Facts(),
    ...(local ? { local } : {}),
  };
  const checks = doctorChecks(facts);
  for (const check of checks) output.emit({ type: "check", ...check });
  const failed = checks.filter((check) => check.verdict === "fail").map((check) => check.check);
  if (failed.length > 0) {
    throw new P2pftError(
      `doctor: ${failed.length} ${failed.length === 1 ? "check" : "checks"} failed (${
        failed.join(", ")
      })`,
    );
  }
}

/** Runs `work`; its failure becomes the reason a check names (an OS error's reason only). */
async function outcome<T>(work: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, error: osReason(error) };
  }
}

/** The server's answers over UDP and TCP, asked at once. */
async function askServer(
  given: ServerName,
  signal: AbortSignal,
): Promise<ServerFacts> {
  const server = await resolveServer(given);
  const [udp, tcp] = await Promise.all([
    outcome(() => observeUdp(server, signal)),
    outcome(() => observeTcp(server, signal)),
  ]);
  return { server: formatAddr(server), udp, tcp };
}

/**
 * `register`'s observe step on a fresh UDP socket: the server's main and alt
 * port. The socket is dual-stack, as a transfer's are together, so an IPv6
 * server is asked as send and receive would ask it.
 */
async function observeUdp(server: Deno.NetAddr, signal: AbortSignal) {
  const socket = bindEitherStack((hostname) =>
    Deno.listenDatagram({ transport: "udp", hostname, port: 0 })
  );
  const dualStack = (socket.addr as Deno.NetAddr).hostname === "::";
  await using mux = new DatagramMux(socket);
  const observation = await observeNat(mux.channel(isRendezvousDatagram), {
    server,
    clientId: crypto.getRandomValues(new Uint8Array(16)),
    // The candidates this socket stands for: both families, or IPv4 on a host without IPv6.
    candidates: localCandidates(mux.port).filter((c) => dualStack || !isIpv6(c.hostname)),
    serverTimeoutMs: SERVER_TIMEOUT_MS,
    alt: true,
    signal,
  });
  return {
    mapping: observation.mapping,
    observed: observation.observed,
    ...(observation.altObserved ? { altObserved: observation.altObserved } : {}),
    ...(observation.relayPort === undefined ? {} : { relayPort: observation.relayPort }),
  };
}

/** The same observation over the server's TCP port (which has no alt port). */
async function observeTcp(server: Deno.NetAddr, signal: AbortSignal) {
  const bounded = AbortSignal.any([signal, AbortSignal.timeout(SERVER_TIMEOUT_MS)]);
  await using port: DatagramPort & AsyncDisposable = await connectRendezvousTcp(
    { ...server, transport: "tcp" },
    { signal: bounded },
  );
  const observation = await observeNat(port, {
    server,
    clientId: crypto.getRandomValues(new Uint8Array(16)),
    candidates: [],
    serverTimeoutMs: SERVER_TIMEOUT_MS,
    alt: false,
    signal,
  });
  return { observed: observation.observed };
}

function browseLocal(signal: AbortSignal): Promise<string[]> {
  // Where local discovery itself would announce: IPv4, and IPv6 a peer can reach (ff02::fb).
  const interfaces = hostAddresses().filter((a) => {
    const v6 = a.family === "IPv6" ? parseIpv6(a.address) : undefined;
    return a.family === "IPv4" || (v6 !== undefined && isReachableIpv6(v6));
  }).map((a) => a.address);
  return browseAll({ interfaces, timeoutMs: BROWSE_MS, signal }).then((peers) =>
    peers.map((peer) => peer.instance)
  );
}

function hostAddresses(): DoctorFacts["addresses"] {
  return Deno.networkInterfaces()
    .filter((iface) => iface.address !== "::1" && !iface.address.startsWith("127."))
    .map(({ name, address, family }) => ({ name, address, family }));
}

/**
 * Whether an IPv6 socket binds (nothing is sent), this host's global IPv6
 * addresses, and the IPv6 candidates a transfer would offer.
 */
function ipv6Facts(): DoctorFacts["ipv6"] {
  const global = hostAddresses()
    .filter((a) => a.family === "IPv6" && !/^(fe[89ab]|f[cd])/i.test(a.address))
    .map((a) => a.address);
  // The port is left out of the report: any will do.
  const candidates = localCandidates(1).map((c) => c.hostname).filter(isIpv6);
  try {
    Deno.listenDatagram({ transport: "udp", hostname: "::", port: 0 }).close();
    return { binds: true, global, candidates };
  } catch (error) {
    return { binds: false, error: osReason(error), global, candidates: [] };
  }
}
