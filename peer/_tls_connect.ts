/** Connection setup shared by the TLS link's LAN and relay modes: the client side, preamble, READY. */
import { equalBytes } from "../bytes.ts";
import { P2pftError, ProtocolError } from "../errors.ts";
import { PEER_SERVER_NAME } from "./certificate.ts";
import { type Channel, denoChannel, readExact, untilAborted, writeAll } from "./_tls_channel.ts";
import {
  CONTROL_HEADER_LENGTH,
  decodePreamble,
  encodeControl,
  encodePreamble,
  type Preamble,
  PREAMBLE_LENGTH,
} from "./_tls_wire.ts";

export const DEFAULT_TIMEOUT_MS = 10_000;
export const READY = encodeControl({ type: "ready" });

/** TLS client on `tcp`, verifying the pinned certificate by its SAN name, then the preamble. */
export async function clientChannel(
  tcp: Deno.Conn,
  options: { pem: string; preamble: Preamble; where: string; signal: AbortSignal },
): Promise<Channel> {
  let tls: Deno.TlsConn;
  try {
    (tcp as Deno.TcpConn).setNoDelay?.(true);
    // startTls, not connectTls: the SAN name is verified while the TCP peer is an IP (or the relay).
    tls = await Deno.startTls(tcp as Deno.TcpConn, {
      hostname: PEER_SERVER_NAME,
      caCerts: [options.pem],
    });
  } catch (error) {
    tcp.close();
    throw error;
  }
  const channel = denoChannel(tls, `the TLS connection to ${options.where}`);
  try {
    await untilAborted(tls.handshake(), options.signal, channel.close);
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
  await untilAborted(
    writeAll(channel.stream.writable, encodePreamble(options.preamble)),
    options.signal,
    channel.close,
  ).catch((error) => {
    channel.close();
    throw error;
  });
  return channel;
}

export async function readPreamble(channel: Channel): Promise<Preamble> {
  return decodePreamble(
    await readExact(channel.stream.readable, PREAMBLE_LENGTH, "the TLS preamble"),
  );
}

export async function awaitReady(control: Channel, signal: AbortSignal): Promise<void> {
  try {
    const frame = await untilAborted(
      readExact(control.stream.readable, CONTROL_HEADER_LENGTH, "the sender's READY"),
      signal,
      control.close,
    );
    if (!equalBytes(frame, READY)) {
      throw new ProtocolError(`Expected READY on the TLS control connection, got type ${frame[0]}`);
    }
  } catch (error) {
    control.close();
    throw error;
  }
}
