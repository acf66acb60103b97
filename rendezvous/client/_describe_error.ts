import { RendezvousError } from "../../base/mod.ts";
import { ErrorCode, type ErrorMessage } from "../wire/mod.ts";

/** The server knows no sender on this nameplate (a mistyped code, most often). */
export class NoSenderError extends RendezvousError {}

/** A sender asked for a nameplate (`send --code`) that another sender holds. */
export class NameplateInUseError extends RendezvousError {}

/**
 * A receiver that waited `seconds` (`receive --timeout`) and still hears "busy": more of the same
 * advice would send it to wait again for a sender that may have stopped.
 */
export function stillBusy(nameplate: string, seconds: number): string {
  return `The sender on nameplate ${nameplate} was still busy after ${seconds} s: it serves another receiver, or it stopped while serving one (the server cannot tell which); wait longer with a larger --timeout, or ask the sender whether it still runs, and if not, for a new code`;
}

/** The one-line message of a `RendezvousError` for an `error` reply (`server`: who sent it). */
export function describeError(
  reply: Pick<ErrorMessage, "code" | "nameplate" | "limit">,
  server: string,
): string {
  const plate = reply.nameplate ?? "?";
  switch (reply.code) {
    case ErrorCode.noSender:
      return `No sender is waiting on nameplate ${plate} (check the code, or ask the sender for a new one)`;
    case ErrorCode.nameplateInUse:
      return `Cannot register as sender: nameplate ${plate} is in use (choose another code)`;
    case ErrorCode.roomFull:
      return `The sender on nameplate ${plate} is busy with another receiver, or it stopped while serving one (the server cannot tell which): if it serves several, run receive with --timeout 600 to wait for your turn; if it stopped or serves one receiver only, ask the sender for a new code`;
    case ErrorCode.serverFull:
      return `Rendezvous server ${server} is full (no free room or nameplate); try again later`;
    case ErrorCode.tooManyRooms:
      // With `limit`: the rooms of transfers that ended, kept for their 30 s linger.
      return reply.limit === undefined
        ? `Rendezvous server ${server} refused: too many open rooms from your address; try again later`
        : `Rendezvous server ${server} refused: too many transfers from your address in the last 30 s (at most ${reply.limit}); try again shortly`;
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
    case ErrorCode.relayCapped:
      return `The relay on ${server} allows ${
        reply.limit === undefined ? "only so many bytes" : sizeText(reply.limit)
      } per transfer (its operator's cap): run send again to resume`;
    case ErrorCode.relayChannels:
      return `The relay on ${server} refused a connection: too many channels for this pairing, or this channel is taken`;
    case ErrorCode.storeUnavailable:
      return `Rendezvous server ${server} cannot reach its room store right now; try again, or another instance`;
    default:
      return `Rendezvous server ${server} refused the request (error code ${reply.code})`;
  }
}

/** "8 GiB", "1.5 MiB", "700 B": as `serve --relay-max-bytes` takes it. */
export function sizeText(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let unit = 0;
  for (; value >= 1024 && unit < units.length - 1; unit++) value /= 1024;
  return `${Number(value.toFixed(1))} ${units[unit]}`;
}
