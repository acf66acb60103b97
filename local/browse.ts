/**
 * The receiver's side of local discovery: ask for the sender of a nameplate,
 * then claim its offer until the sender acknowledges (local/PROTOCOL.md).
 */
import { equalBytes, P2pftError, TimeoutError } from "../base/mod.ts";
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
import { advertAddresses, type LocalPairing, nextResend, wakeAfter } from "./_shared.ts";

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
 */
export async function browse(nameplate: string, options: BrowseOptions): Promise<LocalPairing> {
  const { port, addresses } = advertAddresses(options.candidates);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const wanted = senderInstance(nameplate);
  const selfId = crypto.getRandomValues(new Uint8Array(ID_LENGTH));
  const socket = await MdnsSocket.open(addresses);
  let sender: Advert | undefined;
  let claim: Advert | undefined;
  try {
    const query = senderQuery(nameplate, !socket.onMdnsPort);
    let interval: number | undefined;
    let resendAt = 0;
    for (;;) {
      const now = performance.now();
      if (now >= resendAt) {
        await socket.send(claim ? advertResponse(claim) : query);
        interval = nextResend(interval);
        resendAt = now + interval;
      }
      const received = await wakeAfter(resendAt - now, signal, (wake) => socket.receive(wake));
      if (received === undefined) continue;
      const found = readAdvert(received.message, wanted);
      // The first sender found is the one we claim; a second one with the same nameplate is
      // ignored (local/PROTOCOL.md, "Collisions").
      if (!found || (sender && !equalBytes(found.token, sender.token))) continue;
      if (found.peer && equalBytes(found.peer, selfId)) {
        return {
          found: "local",
          nameplate,
          token: found.token,
          selfId,
          peer: {
            id: found.id,
            candidates: found.addresses.map((hostname) => ({
              transport: "udp",
              hostname,
              port: found.port,
            })),
            fingerprint: found.fingerprint,
          },
        };
      }
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
      if (!claim) {
        sender = found;
        options.onSender?.();
        const instance = receiverInstance(found.token);
        claim = {
          instance,
          host: hostName(instance),
          port,
          addresses,
          token: found.token,
          id: selfId,
          browsable: false,
        };
        interval = undefined;
        resendAt = 0;
      }
    }
  } catch (error) {
    if (timeout.aborted && !options.signal?.aborted) {
      throw new TimeoutError(
        sender
          ? `The sender of nameplate ${nameplate} on the local network did not answer our claim within ${timeoutMs} ms`
          : `No sender with nameplate ${nameplate} answered on the local network within ${timeoutMs} ms`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    if (claim) await socket.send(advertResponse(claim, 0)).catch(() => {}); // goodbye
    await socket[Symbol.asyncDispose]();
  }
}
