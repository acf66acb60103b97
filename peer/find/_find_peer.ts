/**
 * Finding the peer: through the rendezvous server, on the local network
 * (local/), or both at once (peer/PROTOCOL.md, "Finding the peer"). What it
 * returns is what the punch needs, whichever way found the peer.
 */
import {
  abortable,
  formatAddr,
  isIpv4Text,
  normalizeIp,
  P2pftError,
  parseIpv6,
  ProtocolError,
  TimeoutError,
} from "../../base/mod.ts";
import type { LocalPairing } from "../../local/mod.ts";
import { localNameplate } from "../../local/nameplate_mod.ts";
import {
  NameplateInUseError,
  NoSenderError,
  type Pairing,
  type RegisterOptions,
} from "../../rendezvous/mod.ts";
import { type DatagramChannel, localCandidates } from "../punch/mod.ts";

import { racePairing, type Way } from "./_race_pairing.ts";
import { registerEither } from "./_register_either.ts";

/**
 * How long a receiver that heard the sender on the LAN still waits for the
 * answer to its claim once the server has paired it: the claim is resent at
 * 250, 500 and 1000 ms, so four claims go out (local/PROTOCOL.md).
 */
const CLAIM_WAIT_MS = 2_000;
/** How long a receiver looks on the LAN when its user set no `--timeout` (0). */
const BROWSE_MS = 5_000;

/** A rendezvous server by name; `source` says where the name came from, for its errors. */
export interface ServerName {
  hostname: string;
  port: number;
  source?: string;
}

/** The peer found through the rendezvous server. */
export interface ServerFound extends Pairing {
  found: "server";
  /** The rendezvous server's address, resolved. */
  server: Deno.NetAddr;
}

/** The peer found on the LAN: no observed addresses, no relay, no NAT between the two. */
export interface LocalFound extends Omit<Pairing, "observed" | "peer" | "relay" | "cookie"> {
  found: "local";
  server?: undefined;
  observed?: undefined;
  relay?: undefined;
  cookie?: undefined;
  peer: LocalPairing["peer"] & { observed?: undefined };
}

export type FoundPeer = ServerFound | LocalFound;

/**
 * What finding hands to the rendezvous client as it is (documented there):
 * the client id and its successor, the nameplate, the fingerprint, the NAT
 * and waiting callbacks, the server's timeout.
 */
type ForServer = Pick<
  RegisterOptions,
  | "clientId"
  | "successor"
  | "nameplate"
  | "fingerprint"
  | "relayOnly"
  | "onNat"
  | "waitForSenderMs"
  | "onWaitingForSender"
  | "serverTimeoutMs"
>;

export interface FindPeerOptions extends ForServer {
  role: "sender" | "receiver";
  /**
   * The rendezvous server, or several instances sharing rooms, tried in turn
   * (with every IPv4 address each name resolves to); absent: local discovery only.
   */
  rendezvous?: ServerName | ServerName[];
  /** Whether to look on the local network too. */
  local: boolean;
  /** The UDP port we punch on (our candidates' port). */
  port: number;
  /** Sender: called once with the nameplate its code carries. */
  onNameplate?: (nameplate: string) => void;
  onPaired?: (paired: PairedInfo) => void;
  /** A way of finding the peer failed while the other still runs, or UDP got no answer (TCP used). */
  onWarning?: (message: string) => void;
  /** Register with the rendezvous server over TCP from the start (`--tcp`). */
  tcp: boolean;
  /** The sender's announcement is moved here once claimed: it answers repeated claims until disposed. */
  keepAlive: AsyncDisposableStack;
  signal?: AbortSignal;
}

/**
 * Pairs with the peer through the rendezvous server and, unless off, on the
 * local network at once (`racePairing` decides). A sender whose server never
 * gave it a nameplate announces a local one instead, with a warning.
 */
export async function findPeer(
  channel: DatagramChannel,
  options: FindPeerOptions,
): Promise<FoundPeer> {
  const { role, rendezvous, signal } = options;
  const sender = role === "sender";
  const candidates = localCandidates(options.port);
  const local = options.local && (candidates.length > 0 || !rendezvous);
  if (local && candidates.length === 0) {
    throw new P2pftError(
      "Cannot look for the peer on the local network: this machine has no address besides loopback and link-local ones",
    );
  }
  const nameplate = Promise.withResolvers<string>();
  let shown = false;
  const show = (value: string) => {
    if (shown) return;
    shown = true;
    options.onNameplate?.(value);
  };
  let issued = false;
  // A nameplate only the LAN will carry is shown once its first announcement went out: a code is
  // not spent on a network that cannot announce it (no route for multicast).
  let lan: "announced" | "awaited" | undefined;
  const issue = (value: string, once: "confirmed" | "announced" = "confirmed") => {
    if (issued) return;
    issued = true;
    nameplate.resolve(value);
    if (once === "confirmed" || lan === "announced") show(value);
    else lan = "awaited";
  };
  const announced = (value: string) => {
    if (lan === "awaited") show(value);
    lan = "announced";
  };
  if (options.nameplate !== undefined) nameplate.resolve(options.nameplate);
  if (sender && !rendezvous) issue(options.nameplate ?? localNameplate(), "announced");

  const server = rendezvous && serverWay(channel, rendezvous, options, issue);
  const lookLocally = local
    ? localWay(candidates, nameplate.promise, options, announced)
    : undefined;

  let serverFailure: unknown;
  let localFailure: unknown;
  const winner = await racePairing({
    server,
    local: lookLocally,
    claimWaitMs: CLAIM_WAIT_MS,
    // The nameplate of `send --code` is another sender's at the server: a receiver going through
    // it would meet that sender (and end its code with a mismatch). Said before any code is shown.
    ends: (way, error) => way === "server" && error instanceof NameplateInUseError,
    onFailed: (way, error) => {
      if (way === "server") serverFailure = error;
      else localFailure = error;
      const message = warning(way, error, options);
      if (message) options.onWarning?.(message);
      // The sender's code was never printed: print it with the nameplate it asked for, or a local
      // one, once announced on the LAN.
      if (way === "server" && sender && !issued) {
        issue(options.nameplate ?? localNameplate(), "announced");
      }
    },
    signal,
  }).catch((error) => {
    // The last way to fail threw `error`; with --timeout both ways end at about the same time.
    throw noSenderAnywhere(serverFailure ?? error, localFailure ?? error, options.nameplate) ??
      error;
  });
  // `send --code` to a receiver already looking on the LAN: paired there before the server
  // confirmed the nameplate, the code is still shown (and its `code` event sent) first.
  if (sender && winner.found === "local") show(winner.pairing.nameplate);
  const found: FoundPeer = winner.found === "server" ? winner.pairing : {
    found: "local",
    nameplate: winner.pairing.nameplate,
    token: winner.pairing.token,
    selfId: winner.pairing.selfId,
    peer: winner.pairing.peer,
    nat: { self: "none", peer: "none" },
    transport: { self: "udp", peer: "udp" },
  };
  options.onPaired?.({
    nameplate: found.nameplate,
    peer: found.peer.observed ?? found.peer.candidates[0],
    found: found.found,
  });
  return found;
}

type Rendezvous = NonNullable<FindPeerOptions["rendezvous"]>;

/** Finding the peer through the rendezvous server (UDP, or TCP), as `racePairing` runs it. */
function serverWay(
  channel: DatagramChannel,
  rendezvous: Rendezvous,
  options: FindPeerOptions,
  issue: (nameplate: string) => void,
): (wayAbort: AbortSignal) => Promise<ServerFound> {
  return async (wayAbort) => {
    const [address, ...fallbacks] = await resolveServers(rendezvous);
    // The client takes what it shares with these options (`ForServer`) as it is.
    const pairing = await registerEither(channel, {
      ...options,
      onTcpFallback: options.onWarning,
      server: address,
      fallbacks,
      role: options.role === "sender" ? "send" : "receive",
      // A side that takes only the relay has no direct address to offer.
      candidates: options.relayOnly ? [] : localCandidates(options.port),
      onNameplate: issue,
      signal: wayAbort,
    });
    return { ...pairing, found: "server", server: address };
  };
}

/**
 * Finding the peer on the local network, as `racePairing` runs it: a receiver browses for the
 * nameplate; a sender announces it (once known) and answers the receiver that claims it.
 */
function localWay(
  candidates: Deno.NetAddr[],
  nameplate: Promise<string>,
  options: FindPeerOptions,
  announced: (nameplate: string) => void,
): (wayAbort: AbortSignal, seen: () => void) => Promise<LocalPairing> {
  return async (wayAbort, seen) => {
    // local/ loads only to look on the LAN (not with --no-local, nor on a host without a LAN
    // address): a receiver's first request to the server does not wait for it, nor a sender's
    // register (it announces the nameplate the server confirmed).
    if (options.role !== "sender") {
      const { browse } = await import("../../local/mod.ts");
      return withAddress(
        await browse(options.nameplate!, {
          candidates,
          timeoutMs: browseMs(options),
          onSender: seen,
          signal: wayAbort,
        }),
      );
    }
    const offer = {
      nameplate: await abortable(nameplate, wayAbort),
      candidates,
      fingerprint: options.fingerprint!,
    };
    const { announce } = await import("../../local/mod.ts");
    const announcement = await announce(offer, { signal: wayAbort });
    announced(offer.nameplate);
    try {
      const pairing = withAddress(await announcement.receiver());
      options.keepAlive.use(announcement);
      return pairing;
    } catch (error) {
      await announcement[Symbol.asyncDispose]();
      throw error;
    }
  };
}

/**
 * How long a receiver looks for its sender on the LAN: the `--timeout` its user set, else 5 s (a
 * LAN cannot answer "no sender" at once as the server does).
 */
function browseMs(options: FindPeerOptions): number {
  return options.waitForSenderMs || BROWSE_MS;
}

/** `pairing`, if the peer gave at least one address to probe. */
function withAddress(pairing: LocalPairing): LocalPairing {
  if (pairing.peer.candidates.length > 0) return pairing;
  throw new ProtocolError(
    `The peer found on the local network for nameplate ${pairing.nameplate} gave no address`,
  );
}

/**
 * A receiver whose server knows no sender and whose look on the LAN found none either: one line
 * for both (a mistyped code, most often), not the LAN's timeout alone.
 */
function noSenderAnywhere(
  serverFailure: unknown,
  localFailure: unknown,
  nameplate: string | undefined,
): Error | undefined {
  if (!(serverFailure instanceof NoSenderError && localFailure instanceof TimeoutError)) {
    return undefined;
  }
  return new NoSenderError(
    `No sender is waiting on nameplate ${nameplate}, at the rendezvous server or on the local network (check the code, or ask the sender for a new one)`,
    { cause: localFailure },
  );
}

/** What to tell the user when one way failed and the other goes on; undefined: nothing. */
function warning(way: Way, error: unknown, options: FindPeerOptions): string | undefined {
  const { role } = options;
  const message = error instanceof Error ? error.message : String(error);
  if (role === "receiver" && error instanceof NoSenderError) {
    // The verdict comes once the LAN was looked at too; meanwhile, what is going on.
    return `No sender is waiting on nameplate ${options.nameplate} at the rendezvous server; looking on the local network for ${
      browseMs(options) / 1000
    } s`;
  }
  if (way === "server") {
    return `${message}; looking for the ${
      role === "sender" ? "receiver" : "sender"
    } on the local network only`;
  }
  // No sender on this LAN is what a receiver elsewhere on the internet finds: no news.
  if (role === "receiver" && error instanceof TimeoutError) return undefined;
  return `Local discovery failed: ${message}; using the rendezvous server only`;
}

/** The rendezvous server's first address, an IPv4 one when it has one (see `resolveServers`). */
export async function resolveServer(
  server: ServerName,
): Promise<Deno.NetAddr> {
  return (await resolveServers(server))[0];
}

/**
 * Every address (A and AAAA) of every server, once each: all IPv4 addresses
 * first, then the IPv6 ones. Registering over IPv4 shows the server our NAT's
 * public IPv4 mapping, while our IPv6 addresses reach the peer as candidates
 * anyway; an IPv6-only host skips the IPv4 ones at once (the failover moves on
 * when a send cannot leave this host).
 */
async function resolveServers(
  given: ServerName | ServerName[],
): Promise<Deno.NetAddr[]> {
  const out = new Map<string, Deno.NetAddr>();
  for (const server of Array.isArray(given) ? given : [given]) {
    let found;
    try {
      found = await lookupAll(server.hostname);
    } catch (error) {
      const from = server.source === undefined ? "" : ` (${server.source})`;
      throw new P2pftError(`Cannot resolve rendezvous server "${server.hostname}"${from}`, {
        cause: error,
      });
    }
    for (const { address } of found) {
      const hostname = normalizeIp(address);
      out.set(formatAddr({ hostname, port: server.port }), {
        transport: "udp",
        hostname,
        port: server.port,
      });
    }
  }
  if (out.size === 0) throw new P2pftError("No rendezvous server address to try");
  const all = [...out.values()];
  return [
    ...all.filter((a) => !a.hostname.includes(":")),
    ...all.filter((a) => a.hostname.includes(":")),
  ];
}

/**
 * The addresses of `hostname` as the system resolves them (hosts file included). An address needs
 * no lookup, and node:dns (tens of ms to load) is loaded only for a name.
 */
async function lookupAll(hostname: string): Promise<{ address: string }[]> {
  if (isIpv4Text(hostname) || parseIpv6(hostname)) return [{ address: hostname }];
  const { lookup } = await import("node:dns/promises");
  return await lookup(hostname, { family: 0, all: true });
}

/** The nameplate we were paired on and where the server saw the peer. */
export interface PairedInfo {
  nameplate: string;
  /** Where the server saw the peer; found locally: the peer's first LAN address. */
  peer: Deno.NetAddr;
  found: "local" | "server";
}
