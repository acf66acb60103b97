/**
 * The receiver's side of setting up the link: it decides (peer/PROTOCOL.md,
 * "Transport choice") and tries each way in turn, each but the last within a
 * short deadline, so a TCP path that does not work costs a second at most.
 */
import { NoPathError } from "../base/mod.ts";
import { certificateFingerprint, certificatePem } from "./cert/mod.ts";
import type { PeerLink } from "./link/mod.ts";
import type { PunchOutcome } from "./punch/mod.ts";
import { dialPeer } from "./quic/mod.ts";
import {
  dialTlsPeer,
  fetchCertificate,
  loadTls,
  type RelayDial,
  relayTlsReceiver,
} from "./tls/mod.ts";
import { linkAttempts, type LinkKind, type TransportChoice } from "./_choose_transport.ts";
import type { Won } from "./_first_link.ts";

/** How long a way that has a fallback gets before the next is tried. */
const FALLBACK_AFTER_MS: Record<LinkKind, number> = {
  "lan-tls": 1_000,
  // Both peers dial the relay about when the path is chosen; the relay pairs them.
  "relay-tls": 3_000,
  quic: 15_000,
};

export interface ReceiverLinkOptions {
  choice: TransportChoice;
  /** The TCP relay, when the server offers it and relaying is allowed. */
  relayDial?: RelayDial;
  signal?: AbortSignal;
}

/** After punching: the ways `linkAttempts` lists for the chosen path, in order. */
export async function receiverLinkAfterPunch(
  punched: PunchOutcome,
  certificate: Uint8Array,
  options: ReceiverLinkOptions,
): Promise<Won> {
  const pem = certificatePem(certificate);
  const kinds = linkAttempts(punched.path, options.choice)
    .filter((kind) => kind !== "relay-tls" || options.relayDial);
  return await inTurn(kinds, options.signal, (kind, signal): Promise<PeerLink> => {
    switch (kind) {
      case "lan-tls":
        // The sender listens on TCP on its punch port's number.
        return dialTlsPeer(
          { transport: "tcp", hostname: punched.remote.hostname, port: punched.remote.port },
          { peerCertificatePem: pem, signal },
        );
      case "relay-tls":
        return relayTlsReceiver(options.relayDial!, {
          peerFingerprint: certificateFingerprint(certificate),
          signal,
        });
      case "quic":
        return dialPeer(punched.localPort, punched.remote, { peerCertificatePem: pem, signal });
    }
  }, () =>
    new NoPathError(
      `No TCP path to the sender: the punched path is public (UDP only) and the server offers no TCP relay; try without --transport tcp`,
    ));
}

/** Where the link was made, when no punching found it. */
export interface TcpWon extends Won {
  remote: Deno.NetAddr;
  /** Time to reach the sender and see its certificate (LAN), NaN through the relay. */
  rttMs: number;
}

/**
 * Without punching: TLS to the sender's private addresses (the first whose
 * certificate matches the announced fingerprint), then the TCP relay.
 */
export async function receiverLinkOverTcp(
  targets: Deno.NetAddr[],
  fingerprint: Uint8Array,
  options: ReceiverLinkOptions & { relay?: Deno.NetAddr },
): Promise<TcpWon> {
  if (targets.length > 0) await loadTls();
  let remote: Deno.NetAddr | undefined;
  let rttMs = NaN;
  const kinds: LinkKind[] = [
    ...(targets.length > 0 ? ["lan-tls" as const] : []),
    ...(options.relayDial && options.relay ? ["relay-tls" as const] : []),
  ];
  const won = await inTurn(kinds, options.signal, async (kind, signal): Promise<PeerLink> => {
    if (kind === "relay-tls") {
      remote = { ...options.relay!, transport: "tcp" };
      rttMs = NaN;
      return await relayTlsReceiver(options.relayDial!, { peerFingerprint: fingerprint, signal });
    }
    const started = performance.now();
    const found = await Promise.any(
      targets.map((target) =>
        fetchCertificate(target, fingerprint, signal).then((der) => ({ target, der }))
      ),
    ).catch((error: AggregateError) => {
      throw error.errors[error.errors.length - 1];
    });
    rttMs = performance.now() - started;
    remote = found.target;
    return await dialTlsPeer(found.target, {
      peerCertificatePem: certificatePem(found.der),
      signal,
    });
  }, () =>
    new NoPathError(
      "No TCP path to the sender: it has no private address to try and the server offers no TCP relay",
    ));
  return { ...won, remote: remote!, rttMs };
}

async function inTurn(
  kinds: LinkKind[],
  signal: AbortSignal | undefined,
  attempt: (kind: LinkKind, signal: AbortSignal) => Promise<PeerLink>,
  none: () => Error,
): Promise<Won> {
  let lastError: unknown;
  for (const [index, kind] of kinds.entries()) {
    const last = index === kinds.length - 1;
    const bounded = AbortSignal.any([
      ...(signal ? [signal] : []),
      ...(last ? [] : [AbortSignal.timeout(FALLBACK_AFTER_MS[kind])]),
    ]);
    try {
      return { link: await attempt(kind, bounded), kind };
    } catch (error) {
      signal?.throwIfAborted();
      lastError = error;
    }
  }
  throw lastError ?? none();
}
