/**
 * The sender's side of local discovery: publish the offer on the LAN, answer
 * queries for it, accept the first receiver's claim (local/PROTOCOL.md).
 */
import { equalBytes, P2pftError, ProtocolError, waitAtMost } from "../base/mod.ts";
import { MdnsSocket } from "./_mdns_socket.ts";
import {
  type Advert,
  advertResponse,
  asksFor,
  FINGERPRINT_LENGTH,
  hostName,
  ID_LENGTH,
  readAdvert,
  receiverInstance,
  senderInstance,
  TOKEN_LENGTH,
} from "./records.ts";
import { advertAddresses, type LocalPairing } from "./_shared.ts";

/** What a sender offers on the LAN. */
export interface LocalOffer {
  nameplate: string;
  /** Its LAN addresses, all with the port it punches on; the group is joined on each. */
  candidates: Deno.NetAddr[];
  /** SHA-256 of its certificate (DER), which the receiver pins. */
  fingerprint: Uint8Array;
}

export interface AnnounceOptions {
  /** Aborting it stops the announcement (with a goodbye) and closes the socket. */
  signal?: AbortSignal;
}

/** A running announcement. Disposing it says goodbye and closes its socket. */
export interface LocalAnnouncement extends AsyncDisposable {
  /** The punch token, chosen here, that the receiver echoes. */
  readonly token: Uint8Array;
  /** Our punch id. */
  readonly selfId: Uint8Array;
  /**
   * The first receiver that claimed the offer. Claims from it keep being
   * answered until disposal; later receivers are told the offer is taken.
   * Rejects with the signal's reason on abort, or when the socket fails.
   */
  receiver(): Promise<LocalPairing>;
}

/** When the unsolicited announcements go out (RFC 6762 §8.3: at least two, one second apart). */
const ANNOUNCE_AT_MS = [0, 1000];

/**
 * Starts announcing `offer` on every interface of its candidates; returns once the first
 * announcement went out (and throws if it could not).
 */
export async function announce(
  offer: LocalOffer,
  options: AnnounceOptions = {},
): Promise<LocalAnnouncement> {
  const advert = advertOf(offer);
  const socket = await openAnnounced(advert);
  const started = performance.now();
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  let resolveReceiver!: (pairing: LocalPairing) => void;
  let rejectReceiver!: (error: unknown) => void;
  const claimed = new Promise<LocalPairing>((resolve, reject) => {
    resolveReceiver = resolve;
    rejectReceiver = reject;
  });
  claimed.catch(() => {}); // Nobody need ask for the receiver; a failure is still reported to who does.

  const serving = (async () => {
    try {
      await serve(
        socket,
        advert,
        started,
        signal,
        (claim) => resolveReceiver(pairingOf(offer, advert, claim)),
      );
    } catch (error) {
      rejectReceiver(signal.aborted ? options.signal?.reason ?? error : error);
    } finally {
      await socket.send(advertResponse(advert, 0)).catch(() => {}); // goodbye, best effort
      await socket[Symbol.asyncDispose]();
    }
  })();

  return {
    token: advert.token,
    selfId: advert.id,
    receiver: () => claimed,
    async [Symbol.asyncDispose]() {
      stop.abort(new P2pftError("The local announcement was stopped before a receiver came"));
      await serving;
    },
  };
}

/** The record that publishes `offer`, with a fresh punch token and id. */
function advertOf(offer: LocalOffer): Advert {
  const { port, addresses } = advertAddresses(offer.candidates);
  if (offer.fingerprint.length !== FINGERPRINT_LENGTH) {
    throw new RangeError(
      `Cannot announce: the certificate fingerprint has ${offer.fingerprint.length} bytes, not ${FINGERPRINT_LENGTH}`,
    );
  }
  const instance = senderInstance(offer.nameplate);
  return {
    instance,
    host: hostName(instance),
    port,
    addresses,
    token: crypto.getRandomValues(new Uint8Array(TOKEN_LENGTH)),
    id: crypto.getRandomValues(new Uint8Array(ID_LENGTH)),
    fingerprint: offer.fingerprint,
    browsable: true,
  };
}

/**
 * The socket, once the first announcement went out on it: a network with no route for
 * multicast fails here, before the caller shows a code that could not be found.
 */
async function openAnnounced(advert: Advert): Promise<MdnsSocket> {
  const socket = await MdnsSocket.open(advert.addresses);
  try {
    await socket.send(advertResponse(advert));
  } catch (error) {
    await socket[Symbol.asyncDispose]();
    throw error;
  }
  return socket;
}

/**
 * Sends the rest of the unsolicited announcements, answers queries for `advert`, and
 * acknowledges claims until `signal` aborts: `onFirstClaim` with the first claimant's
 * record; it and any later claimant get the same answer (the offer is taken).
 */
async function serve(
  socket: MdnsSocket,
  advert: Advert,
  started: number,
  signal: AbortSignal,
  onFirstClaim: (claim: Advert) => void,
): Promise<never> {
  const claimInstance = receiverInstance(advert.token);
  let announced = 1;
  for (;;) {
    const now = performance.now() - started;
    if (announced < ANNOUNCE_AT_MS.length && now >= ANNOUNCE_AT_MS[announced]) {
      announced++;
      await socket.send(advertResponse(advert));
      continue;
    }
    const due = announced < ANNOUNCE_AT_MS.length ? ANNOUNCE_AT_MS[announced] - now : undefined;
    const received = await waitAtMost(due, (wake) => socket.receive(wake), signal);
    if (received === undefined) continue;
    const { message, from } = received;
    if (asksFor(message, advert)) {
      await answer(socket, advert, from, message.questions.some((q) => q.unicastResponse));
      continue;
    }
    let claim: Advert | undefined;
    try {
      claim = readAdvert(message, claimInstance);
    } catch (error) {
      if (error instanceof ProtocolError) continue; // That claimant cannot pair; others may.
      throw error;
    }
    if (!claim || !equalBytes(claim.token, advert.token)) continue;
    if (advert.peer === undefined) {
      advert.peer = claim.id;
      onFirstClaim(claim);
    }
    // The first claimant gets its acknowledgement (again, if the last was lost); later
    // ones learn from the same answer that the offer is taken.
    await answer(socket, advert, from, false);
  }
}

/** What the sender learns from its receiver's claim. */
function pairingOf(offer: LocalOffer, advert: Advert, claim: Advert): LocalPairing {
  return {
    found: "local",
    nameplate: offer.nameplate,
    token: advert.token,
    selfId: advert.id,
    peer: {
      id: claim.id,
      candidates: claim.addresses.map((hostname) => ({
        transport: "udp",
        hostname,
        port: claim.port,
      })),
    },
  };
}

/** Answers by multicast, and by unicast too to a one-shot querier (RFC 6762 §5.1, §6.7). */
async function answer(
  socket: MdnsSocket,
  advert: Advert,
  from: Deno.NetAddr,
  unicastAsked: boolean,
): Promise<void> {
  await socket.send(advertResponse(advert));
  if (unicastAsked || from.port !== 5353) await socket.send(advertResponse(advert), from);
}
