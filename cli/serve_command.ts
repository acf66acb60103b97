import { osReason, P2pftError, StoreUnavailableError, UsageError } from "../base/mod.ts";
import { RendezvousServer } from "../rendezvous/server_mod.ts";
import type { Output } from "./output.ts";
import { parseArgument } from "./exit_code.ts";
import { parseHostPort } from "./parse_host_port.ts";
import { parseRate, parseSize } from "./parse_size.ts";

export interface ServeCommandOptions {
  /** `--host`; absent: dual-stack "::", or "0.0.0.0" on a host without IPv6. */
  host?: string;
  port: number;
  /** Offer the relay fallback (`--no-relay` turns it off). */
  relay: boolean;
  /** `--store redis://HOST:PORT[/DB]`: rooms shared with other instances (default: memory). */
  store?: string;
  /** `--public-address HOST`: where peers registered elsewhere reach this relay. */
  publicAddress?: string;
  /** `--metrics HOST:PORT`: serve Prometheus text at /metrics. */
  metrics?: string;
  /** `--relay-rate MBPS`: each relay session's cap in MB/s (default: none). */
  relayRate?: string;
  /** `--relay-max-bytes SIZE`: bytes one relay session may carry, then it ends (default: no cap). */
  relayMaxBytes?: string;
  /** `--relay-sessions N`: relay sessions at once (default 64); more are refused before they start. */
  relaySessions?: number;
  output: Output;
  signal: AbortSignal;
}

/**
 * The longest `serve --store` waits for its store at start: a refused connection fails at once,
 * one that gets no answer after the store's 2 s connect timeout.
 */
const STORE_CONNECT_TIMEOUT_MS = 5_000;

/** `p2pft serve`: runs the rendezvous server until Ctrl-C or SIGTERM, then stops cleanly (exit 0). */
export async function serveCommand(options: ServeCommandOptions): Promise<void> {
  if (options.host?.trim() === "") {
    throw new UsageError(
      '--host is empty (an unset variable in --host "$VAR"?); leave it out to listen on every address',
    );
  }
  // Options the server refuses (a bad --store or --public-address) are the user's to fix.
  await using server = listenOn({
    name: "--host",
    value: options.host,
    advice: "give an address of this host (or a name that resolves to one), or leave --host out " +
      "to listen on every address",
  }, () =>
    RendezvousServer.listen({
      hostname: options.host,
      port: options.port,
      // Fixed neighbours of a fixed port, so a firewall can name them; any free ports with --port 0.
      // TCP listens on the main and relay port numbers too (the same numbers to open).
      altPort: options.port === 0 ? 0 : options.port + 1,
      relayPort: options.port === 0 ? 0 : options.port + 2,
      relay: options.relay,
      store: options.store,
      publicAddress: options.publicAddress,
      relayBytesPerSecond: options.relayRate === undefined
        ? undefined
        : parseRate(options.relayRate, "--relay-rate"),
      relayMaxBytes: options.relayMaxBytes === undefined
        ? undefined
        : parseSize(options.relayMaxBytes, "--relay-max-bytes"),
      relayMaxSessions: options.relaySessions,
    }));
  try {
    await server.ready(
      AbortSignal.any([options.signal, AbortSignal.timeout(STORE_CONNECT_TIMEOUT_MS)]),
    );
  } catch (error) {
    if (!(error instanceof StoreUnavailableError) || options.signal.aborted) throw error;
    throw new StoreUnavailableError(
      `${error.message}; start Redis there or fix --store (without it, rooms are kept in memory)`,
      { cause: error },
    );
  }
  await using metrics = options.metrics === undefined ? undefined : listenOn({
    name: "--metrics",
    value: options.metrics,
    advice: "give an address of this host and a free port (HOST:0: any free port)",
  }, () => serveMetrics(options.metrics!, () => server.metrics()));
  options.output.emit({
    type: "listening",
    host: server.addr.hostname,
    port: server.addr.port,
    altPort: server.altAddr.port,
    ...(server.relayAddr ? { relayPort: server.relayAddr.port } : {}),
    tcp: server.tcp,
    store: server.store,
    ...(metrics ? { metrics: metrics.url } : {}),
  });
  await new Promise<void>((resolve) => {
    if (options.signal.aborted) return resolve();
    options.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  options.output.emit({ type: "stopped", stats: { ...server.stats() } });
}

/**
 * Runs `listen`: what the user typed is a usage error, and so is an address this host cannot take
 * (a name that does not resolve read "unexpected failure: ... failed to lookup address
 * information"; an address of another host, "Cannot assign requested address (os error 99)").
 * `flag` names the option and `advice` what it takes.
 */
function listenOn<T>(
  flag: { name: string; value?: string; advice: string },
  listen: () => T,
): T {
  try {
    return parseArgument(listen);
  } catch (error) {
    const foreign = error instanceof Deno.errors.AddrNotAvailable;
    // Not p2pft's and of no Deno.errors class: the lookup of the name failed.
    const unresolved = !(error instanceof P2pftError) &&
      !Object.values(Deno.errors).some((kind) => error instanceof kind);
    if (flag.value === undefined || !(foreign || unresolved)) throw error;
    // The system's own words (the error itself may name the port and what it was for).
    const reason = foreign ? "it is not an address of this host" : osReason(
      error instanceof Error && error.cause instanceof Error ? error.cause : error,
    );
    throw new UsageError(`Cannot listen on ${flag.name} ${flag.value}: ${reason}; ${flag.advice}`, {
      cause: error,
    });
  }
}

/** `--metrics HOST:PORT`: Prometheus text at /metrics (port 0: any free port, reported). */
function serveMetrics(
  address: string,
  render: () => Promise<string>,
): AsyncDisposable & { url: string } {
  // Port 0 (any free port) suits a listener, unlike a server to contact, which parseHostPort wants.
  const anyPort = address.endsWith(":0");
  const { hostname, port } = parseHostPort(anyPort ? `${address.slice(0, -2)}:1` : address);
  const http = serveOn(
    address,
    { hostname, port: anyPort ? 0 : port, onListen: () => {} },
    async (request) => {
      if (new URL(request.url).pathname !== "/metrics") {
        return new Response("Not found: metrics are at /metrics\n", { status: 404 });
      }
      return new Response(await render(), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      });
    },
  );
  return {
    url: `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${http.addr.port}/metrics`,
    [Symbol.asyncDispose]: () => http.shutdown(),
  };
}

/** `Deno.serve`; a port in use says so as `serve --port` does, not "(os error 98)". */
function serveOn(
  address: string,
  options: Deno.ServeTcpOptions,
  handler: Deno.ServeHandler,
): Deno.HttpServer<Deno.NetAddr> {
  try {
    return Deno.serve(options, handler);
  } catch (error) {
    if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    throw new Deno.errors.AddrInUse(
      `Cannot listen on --metrics ${address}: the port is already in use by another program: ` +
        `choose another (HOST:0: any free port)`,
      { cause: error },
    );
  }
}
