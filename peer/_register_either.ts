/**
 * Registers with the rendezvous server over UDP, or over TCP when asked to or
 * when UDP gets no answer at all within `UDP_ANSWER_MS` (networks that drop
 * UDP): the same messages, framed, on one TCP connection to the same port.
 */
import { connectRendezvousTcp, type Pairing, register } from "../rendezvous/mod.ts";
import type { DatagramPort, RegisterOptions } from "../rendezvous/mod.ts";
import { P2pftError } from "../errors.ts";
import { formatAddr } from "./addresses.ts";

/** How long UDP may stay unanswered before the client turns to TCP. */
export const UDP_ANSWER_MS = 1_000;

export interface RegisterEitherOptions extends RegisterOptions {
  /** Use TCP from the start (`--tcp`). */
  tcp: boolean;
  /** Called when UDP got no answer and TCP is used instead, with why. */
  onTcpFallback?: (why: string) => void;
}

export async function registerEither(
  udp: DatagramPort,
  options: RegisterEitherOptions,
): Promise<Pairing> {
  if (!options.tcp) {
    const silent = new AbortController();
    let answered = false;
    const watched: DatagramPort = {
      transport: "udp",
      send: (data, to) => udp.send(data, to),
      receive: async (signal) => {
        const datagram = await udp.receive(signal);
        answered = true;
        return datagram;
      },
    };
    const timer = setTimeout(() => {
      if (!answered) silent.abort();
    }, UDP_ANSWER_MS);
    try {
      return await register(watched, {
        ...options,
        signal: AbortSignal.any([silent.signal, ...(options.signal ? [options.signal] : [])]),
      });
    } catch (error) {
      if (!silent.signal.aborted || options.signal?.aborted) throw error;
    } finally {
      clearTimeout(timer);
    }
  }
  const server = { ...options.server, transport: "tcp" as const };
  let port;
  try {
    port = await connectRendezvousTcp(server, { signal: options.signal });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new P2pftError(
      `The rendezvous server ${formatAddr(server)} did not answer${
        options.tcp ? "" : ` over UDP within ${UDP_ANSWER_MS / 1000} s, nor`
      } over TCP: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (!options.tcp) {
    options.onTcpFallback?.(
      `UDP to the server got no answer within ${UDP_ANSWER_MS / 1000} s: using TCP`,
    );
  }
  await using _port = port;
  return await register(port, options);
}
