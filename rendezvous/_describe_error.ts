import { ErrorCode } from "./protocol.ts";

/** The one-line message of a `RendezvousError` for an `error` reply's code. */
export function describeError(
  code: number,
  nameplate: string | undefined,
  server: string,
): string {
  const plate = nameplate ?? "?";
  switch (code) {
    case ErrorCode.noSender:
      return `No sender is waiting on nameplate ${plate} (check the code, or ask the sender for a new one)`;
    case ErrorCode.nameplateInUse:
      return `Cannot register as sender: nameplate ${plate} is in use (choose another code)`;
    case ErrorCode.roomFull:
      return `Nameplate ${plate} already has a sender and a receiver (a code works once: ask the sender for a new one, or try again in a moment if it serves several receivers)`;
    case ErrorCode.serverFull:
      return `Rendezvous server ${server} is full (no free room or nameplate); try again later`;
    case ErrorCode.tooManyRooms:
      return `Rendezvous server ${server} refused: too many open rooms from your address; try again later`;
    case ErrorCode.expired:
      return `The room on nameplate ${plate} expired on rendezvous server ${server} (waited too long, or the server restarted); start again for a new code`;
    case ErrorCode.clientConflict:
      return `Rendezvous server ${server} refused: this client is already registered elsewhere (nameplate ${plate})`;
    case ErrorCode.relayOff:
      return `Rendezvous server ${server} does not relay (it runs with --no-relay, or this is not its relay port)`;
    case ErrorCode.relayFull:
      return `The relay on ${server} is full (too many sessions); try again later`;
    case ErrorCode.relayUnknown:
      return `The relay on ${server} does not know this pairing (its room expired, or the token is wrong)`;
    case ErrorCode.relayEnded:
      return `The relay session on ${server} ended (byte limit reached, or idle too long); start again for a new code`;
    case ErrorCode.relayChannels:
      return `The relay on ${server} refused a connection: too many channels for this pairing, or this channel is taken`;
    case ErrorCode.storeUnavailable:
      return `Rendezvous server ${server} cannot reach its room store right now; try again, or another instance`;
    default:
      return `Rendezvous server ${server} refused the request (error code ${code})`;
  }
}
