import { RendezvousServer } from "../rendezvous/mod.ts";
import type { Output } from "./output.ts";

export interface ServeCommandOptions {
  host: string;
  port: number;
  /** Offer the relay fallback (`--no-relay` turns it off). */
  relay: boolean;
  output: Output;
  signal: AbortSignal;
}

/** `p2pft serve`: runs the rendezvous server until interrupted. */
export async function serveCommand(options: ServeCommandOptions): Promise<void> {
  await using server = RendezvousServer.listen({
    hostname: options.host,
    port: options.port,
    relay: options.relay,
  });
  options.output.emit({ type: "listening", host: server.addr.hostname, port: server.addr.port });
  await new Promise<void>((resolve) => {
    if (options.signal.aborted) return resolve();
    options.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  options.signal.throwIfAborted();
}
