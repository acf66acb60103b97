/**
 * Registers with the rendezvous server over UDP, or over TCP when asked to or
 * when UDP gets no answer at all within `UDP_ANSWER_MS` while the server takes
 * TCP (networks that drop UDP): the same messages, framed, on one TCP
 * connection to the same port. A server that answers neither may be down:
 * UDP then goes on, failing over to the next instance (`fallbacks`).
 */
import {
  connectRendezvousTcp,
  type DatagramPort,
  type Pairing,
  register,
  type RegisterOptions,
  type TcpRendezvousPort,
} from "../../rendezvous/mod.ts";
import { formatAddr, osReason, P2pftError } from "../../base/mod.ts";

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
  const server = { ...options.server, transport: "tcp" as const };
  let port: TcpRendezvousPort | undefined;
  if (!options.tcp) {
    const silent = new AbortController();
    let answered = false;
    let probe: Promise<void> | undefined;
    let tcpError: unknown;
    const watched: DatagramPort = {
      transport: "udp",
      send: (data, to) => udp.send(data, to),
      receive: async (signal) => {
        const datagram = await udp.receive(signal);
        answered = true;
        return datagram;
      },
    };
    // UDP silent so far: a server that takes TCP is up, so UDP is what is blocked.
    const timer = setTimeout(() => {
      if (answered) return;
      probe = connectRendezvousTcp(server, { signal: options.signal }).then((tcp) => {
        port = tcp;
        if (!answered) silent.abort();
      }, (error) => {
        if (options.fallbacks?.length) return;
        tcpError = error;
        if (!answered) silent.abort();
      });
    }, UDP_ANSWER_MS);
    const udpResult = await register(watched, {
      ...options,
      signal: AbortSignal.any([silent.signal, ...(options.signal ? [options.signal] : [])]),
    }).then((pairing) => ({ pairing }), (error) => ({ error }));
    clearTimeout(timer);
    await probe;
    if ("pairing" in udpResult || !silent.signal.aborted || options.signal?.aborted) {
      // UDP answered after all: a TCP connection made meanwhile is not needed.
      await port?.[Symbol.asyncDispose]();
      if ("pairing" in udpResult) return udpResult.pairing;
      throw udpResult.error;
    }
    if (tcpError !== undefined) {
      throw new P2pftError(
        `The rendezvous server ${formatAddr(server)} did not answer over UDP within ${
          UDP_ANSWER_MS / 1000
        } s, nor over TCP: ${osReason(tcpError)} (is it running, at that address and port?)`,
        { cause: tcpError },
      );
    }
  }
  if (port) {
    options.onTcpFallback?.(
      `UDP to the server got no answer within ${UDP_ANSWER_MS / 1000} s: using TCP`,
    );
  } else {
    try {
      port = await connectRendezvousTcp(server, { signal: options.signal });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new P2pftError(
        `The rendezvous server ${formatAddr(server)} did not answer over TCP: ${
          (error as Error).message
        }`,
        { cause: error },
      );
    }
  }
  await using _port = port;
  return await register(port, options);
}
