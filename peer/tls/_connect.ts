/** Connection setup shared by the TLS link's LAN and relay modes: the client side, preamble, READY. */
import {
  abortable,
  ByteReader,
  ConnectionLostError,
  equalBytes,
  P2pftError,
  ProtocolError,
} from "../../base/mod.ts";
import { PEER_SERVER_NAME } from "../cert/mod.ts";
import { type Channel, denoChannel, writeAndRelease } from "./_channel.ts";
import {
  CONTROL_HEADER_LENGTH,
  decodePreamble,
  encodeControl,
  encodePreamble,
  type Preamble,
  PREAMBLE_LENGTH,
} from "./_wire.ts";

export const DEFAULT_TIMEOUT_MS = 10_000;
export const READY = encodeControl({ type: "ready" });

/** A connection of the link made by the TLS client, and the ALPN protocol its server picked. */
export interface ClientChannel extends Channel {
  alpnProtocol: string | null;
}

/**
 * TLS client on `tcp`, verifying the pinned certificate by its SAN name, offering `alpn` if
 * given, then the preamble (none: the caller writes it later with {@link writePreamble}).
 */
export async function clientChannel(
  tcp: Deno.Conn,
  options: {
    pem: string;
    alpn?: string[];
    preamble?: Preamble;
    where: string;
    signal: AbortSignal;
  },
): Promise<ClientChannel> {
  let tls: Deno.TlsConn;
  try {
    (tcp as Deno.TcpConn).setNoDelay?.(true);
    // startTls, not connectTls: the SAN name is verified while the TCP peer is an IP (or the relay).
    tls = await Deno.startTls(tcp as Deno.TcpConn, {
      hostname: PEER_SERVER_NAME,
      caCerts: [options.pem],
      ...(options.alpn ? { alpnProtocols: options.alpn } : {}),
    });
  } catch (error) {
    tcp.close();
    throw error;
  }
  const channel = denoChannel(tls, `the TLS connection to ${options.where}`);
  let alpnProtocol: string | null;
  try {
    ({ alpnProtocol } = await abortable(tls.handshake(), options.signal, {
      onAbort: channel.close,
    }));
  } catch (error) {
    channel.close();
    if (options.signal.aborted) throw error;
    throw new P2pftError(
      `TLS handshake with ${options.where} failed (is it the sender whose certificate was pinned?): ${
        (error as Error).message
      }`,
      { cause: error },
    );
  }
  if (options.preamble) await writePreamble(channel, options.preamble, options.signal);
  return { ...channel, alpnProtocol };
}

/** Writes the preamble on a connection whose handshake is done; closes it on failure. */
export async function writePreamble(
  channel: Channel,
  preamble: Preamble,
  signal: AbortSignal,
): Promise<void> {
  await abortable(
    writeAndRelease(channel.stream.writable, encodePreamble(preamble)),
    signal,
    { onAbort: channel.close },
  ).catch((error) => {
    channel.close();
    throw error;
  });
}

export async function readPreamble(channel: Channel): Promise<Preamble> {
  return decodePreamble(
    await readAndRelease(channel.stream.readable, PREAMBLE_LENGTH, "the TLS preamble"),
  );
}

export async function awaitReady(control: Channel, signal: AbortSignal): Promise<void> {
  try {
    const frame = await abortable(
      readAndRelease(control.stream.readable, CONTROL_HEADER_LENGTH, "the sender's READY"),
      signal,
      { onAbort: control.close },
    );
    if (!equalBytes(frame, READY)) {
      throw new ProtocolError(`Expected READY on the TLS control connection, got type ${frame[0]}`);
    }
  } catch (error) {
    control.close();
    throw error;
  }
}

/**
 * Reads exactly `length` bytes and gives the stream back unlocked: a channel's readable is a byte
 * stream, read into views of the missing size, so no byte after them leaves it.
 */
async function readAndRelease(
  readable: ReadableStream<Uint8Array>,
  length: number,
  what: string,
): Promise<Uint8Array> {
  const reader = new ByteReader(readable, {
    what,
    exact: true,
    failure: ConnectionLostError,
    ended: ConnectionLostError,
  });
  try {
    return await reader.readInto(new Uint8Array(length));
  } finally {
    reader.release();
  }
}

/**
 * What bounds reaching the sender (the LAN's TCP connect, the relay's `relay-ready`): the link's
 * own deadline, and the receiver's fallback deadline when it has one.
 */
export function reaching(limit: AbortSignal, reach: AbortSignal | undefined): AbortSignal {
  return reach ? AbortSignal.any([limit, reach]) : limit;
}
