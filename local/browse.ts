/**
 * The receiver's side of local discovery: ask for the sender of a nameplate,
 * then claim its offer until the sender acknowledges (local/PROTOCOL.md).
 */
import { equalBytes, P2pftError, TimeoutError, waitAtMost } from "../base/mod.ts";
import type { DnsMessage } from "./dns.ts";
import { MdnsSocket } from "./_mdns_socket.ts";
import {
  type Advert,
  advertResponse,
  hostName,
  ID_LENGTH,
  readAdvert,
  receiverInstance,
  senderInstance,
  senderQuery,
} from "./records.ts";
import { advertAddresses, type LocalPairing, nextResend } from "./_shared.ts";

export interface BrowseOptions {
  /** Our LAN addresses, all with the port we punch on: sent to the sender in our claim. */
  candidates: Deno.NetAddr[];
  /** How long to look before giving up (default 5000 ms). */
  timeoutMs?: number;
  /** Called once when the sender's advert was heard, before we claim its offer. */
  onSender?: () => void;
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 5000;

/**
 * Finds the sender of `nameplate` on the LAN and pairs with it. Rejects with
 * a TimeoutError when no sender answered in time, a P2pftError when the
 * sender is taken or speaks another version, the signal's reason on abort.
 * Two phases: look for the sender (query), then claim its offer (claim).
 */
export async function browse(nameplate: string, options: BrowseOptions): Promise<LocalPairing> {
  const { port, addresses } = advertAddresses(options.candidates);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const timedOut = (error: unknown, message: string) =>
    timeout.aborted && !options.signal?.aborted
      ? new TimeoutError(message, { cause: error })
      : error;
  const selfId = crypto.getRandomValues(new Uint8Array(ID_LENGTH));
  await using socket = await MdnsSocket.open(addresses);
  const wanted = senderInstance(nameplate);
  const query = senderQuery(nameplate, !socket.onMdnsPort);
  // The first sender found is the one we claim; a second one with the same nameplate is
  // ignored (local/PROTOCOL.md, "Collisions").
  const sender = await askUntil(socket, query, { wanted, signal }, (found) => {
    checkSender(found, nameplate);
    return found;
  }).catch((error): never => {
    throw timedOut(
      error,
      `No sender with nameplate ${nameplate} answered on the local network within ${
        timeoutMs % 1000 === 0 ? `${timeoutMs / 1000} s` : `${timeoutMs} ms`
      }`,
    );
  });
  options.onSender?.();
  const claim = claimOf(sender, { port, addresses, id: selfId });
  try {
    const paired = await askUntil(socket, advertResponse(claim), { wanted, signal }, (found) => {
      if (!equalBytes(found.token, sender.token)) return undefined;
      if (found.peer && equalBytes(found.peer, selfId)) return found;
      checkSender(found, nameplate);
      return undefined;
    });
    return {
      found: "local",
      nameplate,
      token: paired.token,
      selfId,
      peer: {
        id: paired.id,
        candidates: paired.addresses.map((hostname) => ({
          transport: "udp",
          hostname,
          port: paired.port,
        })),
        fingerprint: paired.fingerprint,
      },
    };
  } catch (error) {
    throw timedOut(
      error,
      `The sender of nameplate ${nameplate} on the local network did not answer our claim within ${timeoutMs} ms`,
    );
  } finally {
    await socket.send(advertResponse(claim, 0)).catch(() => {}); // goodbye
  }
}

/**
 * Sends `message` on the resend schedule until `answer` returns a value for
 * an advert of `ask.wanted` (undefined: keep asking).
 */
async function askUntil<T>(
  socket: MdnsSocket,
  message: DnsMessage,
  ask: { wanted: string; signal: AbortSignal },
  answer: (found: Advert) => T | undefined,
): Promise<T> {
  let interval: number | undefined;
  let resendAt = 0;
  for (;;) {
    const now = performance.now();
    if (now >= resendAt) {
      await socket.send(message);
      interval = nextResend(interval);
      resendAt = now + interval;
    }
    const received = await waitAtMost(resendAt - now, (wake) => socket.receive(wake), ask.signal);
    if (received === undefined) continue;
    const found = readAdvert(received.message, ask.wanted);
    if (!found) continue;
    const value = answer(found);
    if (value !== undefined) return value;
  }
}

/** Our claim of `sender`'s offer: a receiver instance named after its token, not browsable. */
function claimOf(sender: Advert, own: Pick<Advert, "port" | "addresses" | "id">): Advert {
  const instance = receiverInstance(sender.token);
  return { ...own, instance, host: hostName(instance), token: sender.token, browsable: false };
}

/** Throws when the sender of `found` cannot be paired with: another receiver's, or no fingerprint. */
function checkSender(found: Advert, nameplate: string): void {
  if (found.peer) {
    throw new P2pftError(
      `The sender of nameplate ${nameplate} on the local network is already paired with another receiver`,
    );
  }
  if (!found.fingerprint) {
    throw new P2pftError(
      `The sender of nameplate ${nameplate} on the local network announced no certificate fingerprint`,
    );
  }
}
