/**
 * The receiver's side of setting up the link: it decides (peer/PROTOCOL.md,
 * "Transport choice") and tries each way in turn, each but the last within a
 * short deadline, so a TCP path that does not work costs a second at most.
 */
import { ConnectionLostError, NoPathError } from "../base/mod.ts";
import { certificateFingerprint, certificatePem } from "./cert/mod.ts";
import { lanesFor } from "./link/mod.ts";
import type { PunchOutcome } from "./punch/mod.ts";
import { dialPeer } from "./quic/mod.ts";
import { dialTlsPeer, fetchCertificate, loadTls, relayTlsReceiver } from "./tls/mod.ts";
import { linkAttempts, type LinkKind, type TransportChoice } from "./_choose_transport.ts";
import type { Won } from "./_first_link.ts";
import type { TcpRelay } from "./_route.ts";

/**
 * How long a way that has a fallback gets to reach the sender before the next is tried: the TCP
 * connect on the LAN, `relay-ready` through the relay. The TLS set-up after it is bounded by the
 * link's own timeouts, since the sender may hold the link by then (peer/PROTOCOL.md).
 */
const FALLBACK_AFTER_MS: Record<LinkKind, number> = {
  "lan-tls": 1_000,
  // Both peers dial the relay about when the path is chosen; the relay pairs them.
  "relay-tls": 3_000,
  quic: 15_000,
};

export interface ReceiverLinkOptions {
  choice: TransportChoice;
  /** The TCP relay, when the server offers it and relaying is allowed. */
  tcpRelay?: TcpRelay;
  signal?: AbortSignal;
}

/**
 * One way to try, within `signal`; `reach` adds its fallback deadline (by `kind`) and bounds only
 * reaching the sender.
 */
interface Attempt<T> {
  kind: LinkKind;
  open(signal: AbortSignal, reach: AbortSignal): Promise<T>;
}

/** After punching: the ways `linkAttempts` lists for the chosen path, in order. */
export async function receiverLinkAfterPunch(
  punched: PunchOutcome,
  certificate: Uint8Array,
  options: ReceiverLinkOptions,
): Promise<Won> {
  const pem = certificatePem(certificate);
  const attempts = linkAttempts(punched.path, options.choice).flatMap(
    (kind): Attempt<Won>[] => {
      switch (kind) {
        case "lan-tls":
          return [{
            kind,
            // The sender listens on TCP on its punch port's number.
            open: async (signal, reach) => ({
              kind,
              link: await dialTlsPeer(
                { transport: "tcp", hostname: punched.remote.hostname, port: punched.remote.port },
                { peerCertificatePem: pem, signal, reachSignal: reach },
              ).catch((error) => {
                throw options.choice === "tcp" ? quicOnlySender(error) : error;
              }),
            }),
          }];
        case "relay-tls":
          return options.tcpRelay
            ? [relayAttempt(options.tcpRelay, certificateFingerprint(certificate))]
            : [];
        case "quic":
          return [{
            kind,
            // The QUIC handshake is how it reaches the sender: its deadline bounds the whole.
            open: async (_signal, reach) => ({
              kind,
              link: await dialPeer(punched.localPort, punched.remote, {
                peerCertificatePem: pem,
                lanes: lanesFor(punched),
                signal: reach,
              }).catch((error) => {
                throw options.choice === "quic" ? tcpOnlySender(error) : error;
              }),
            }),
          }];
      }
    },
  );
  return await inTurn(attempts, options.signal, () =>
    new NoPathError(
      `No TCP path to the sender: the punched path is public (UDP only) and the server offers no TCP relay; try without --transport tcp`,
    ));
}

/** What to do about a sender that answered the probes a moment ago but not on our transport. */
const IN_COMMON = "both sides need a transport in common (run both without --transport)";

/**
 * With `--transport tcp`, a sender whose TCP twin of the punched port refuses runs QUIC only:
 * say so, not just "Connection refused".
 */
function quicOnlySender(error: unknown): unknown {
  const refused = error instanceof ConnectionLostError &&
    error.cause instanceof Deno.errors.ConnectionRefused;
  if (!refused) return error;
  return new NoPathError(
    `${error.message}; the sender takes no TCP, as with --transport quic: ${IN_COMMON}`,
    { cause: error },
  );
}

/** With `--transport quic`, a QUIC handshake that times out on the punched path: TCP only? */
function tcpOnlySender(error: unknown): unknown {
  if (!(error instanceof ConnectionLostError && /timed out/i.test(error.message))) return error;
  return new NoPathError(
    `${error.message}; the sender may take TCP only, as with --transport tcp: ${IN_COMMON}`,
    { cause: error },
  );
}

/** Where the link was made, when no punching found it. */
export interface TcpWon {
  won: Won;
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
  options: ReceiverLinkOptions,
): Promise<TcpWon> {
  if (targets.length > 0) await loadTls();
  const lan: Attempt<TcpWon> = {
    kind: "lan-tls",
    open: async (signal, reach) => {
      const started = performance.now();
      // The fetches that lose are stopped once one found the sender.
      const stopLosers = new AbortController();
      const found = await Promise.any(
        targets.map((target) =>
          fetchCertificate(
            target,
            fingerprint,
            AbortSignal.any([signal, stopLosers.signal]),
            AbortSignal.any([reach, stopLosers.signal]),
          ).then((der) => ({ target, der }))
        ),
      ).catch((error: AggregateError) => {
        throw error.errors[error.errors.length - 1];
      }).finally(() => stopLosers.abort());
      const rttMs = performance.now() - started;
      const link = await dialTlsPeer(found.target, {
        peerCertificatePem: certificatePem(found.der),
        signal,
      });
      return { won: { kind: "lan-tls", link }, remote: found.target, rttMs };
    },
  };
  const relay = options.tcpRelay;
  const attempts: Attempt<TcpWon>[] = [
    ...(targets.length > 0 ? [lan] : []),
    ...(relay
      ? [{
        kind: "relay-tls" as const,
        open: async (signal: AbortSignal, reach: AbortSignal) => ({
          won: await relayAttempt(relay, fingerprint).open(signal, reach),
          remote: relay.addr,
          rttMs: NaN,
        }),
      }]
      : []),
  ];
  return await inTurn(attempts, options.signal, () =>
    new NoPathError(
      "No TCP path to the sender: it has no private address to try and the server offers no TCP relay",
    ));
}

/** Through the TCP relay, to the sender whose certificate has this fingerprint. */
function relayAttempt(relay: TcpRelay, peerFingerprint: Uint8Array): Attempt<Won> {
  return {
    kind: "relay-tls",
    open: async (signal, reach) => ({
      kind: "relay-tls",
      relay: relay.addr,
      link: await relayTlsReceiver(relay.dial, { peerFingerprint, signal, reachSignal: reach }),
    }),
  };
}

async function inTurn<T>(
  attempts: Attempt<T>[],
  signal: AbortSignal | undefined,
  none: () => Error,
): Promise<T> {
  let lastError: unknown;
  const within = signal ?? new AbortController().signal;
  for (const [index, attempt] of attempts.entries()) {
    const last = index === attempts.length - 1;
    const reach = last
      ? within
      : AbortSignal.any([within, AbortSignal.timeout(FALLBACK_AFTER_MS[attempt.kind])]);
    try {
      return await attempt.open(within, reach);
    } catch (error) {
      signal?.throwIfAborted();
      lastError = error;
    }
  }
  throw lastError ?? none();
}
