/** Which requests each of the server's ports takes, and the stateless answers. Pure. */
import { ProtocolError } from "../../base/mod.ts";
import {
  encodeMessage,
  ErrorCode,
  type ObservationMessage,
  type RendezvousMessage,
} from "../wire/mod.ts";

/** Which of the server's sockets a datagram came in on. */
export type PortKind = "main" | "alt" | "relay";

/** The messages a client sends; everything else is a reply. */
export type RequestMessage = Extract<
  RendezvousMessage,
  { type: "register" | "leave" | "observe" | "relay-hello" | "tcp-relay-hello" }
>;

/**
 * `message` as a request the `kind` port takes (over TCP: the main port
 * number). `relays`: the server runs a relay.
 * @throws {ProtocolError} for a reply, or a request this port does not take.
 */
export function takenRequest(
  message: RendezvousMessage,
  kind: PortKind,
  options: { tcp: boolean; relays: boolean },
  from: Deno.NetAddr,
): RequestMessage {
  const refused = refusal(message, kind, options);
  if (refused === undefined) return message as RequestMessage;
  throw new ProtocolError(`Cannot handle datagram from ${from.hostname}:${from.port}: ${refused}`);
}

function refusal(
  message: RendezvousMessage,
  kind: PortKind,
  options: { tcp: boolean; relays: boolean },
): string | undefined {
  switch (message.type) {
    case "register":
    case "leave":
      return kind === "main" ? undefined : `${message.type} on the ${kind} port`;
    case "observe":
      return kind !== "relay" ? undefined : "observe on the relay port";
    case "relay-hello":
      return kind === "relay" || !options.relays ? undefined : `relay-hello on the ${kind} port`;
    case "tcp-relay-hello":
      return options.tcp && !options.relays ? undefined : `tcp-relay-hello on the ${kind} port`;
    default:
      return `${message.type} is a reply`;
  }
}

/** The answer to `observe` from `from`: what we saw, and our other ports. */
export function observation(
  clientId: Uint8Array,
  from: Deno.NetAddr,
  alt: Deno.NetAddr,
  relay: Deno.NetAddr | undefined,
): Uint8Array {
  const observation: ObservationMessage = {
    type: "observation",
    clientId,
    observed: { transport: "udp", hostname: from.hostname, port: from.port },
    altPort: alt.port,
  };
  if (relay) observation.relayPort = relay.port;
  return encodeMessage(observation);
}

/** The whole answer to a request without a valid cookie: the cookie for its source. */
export function cookieAnswer(clientId: Uint8Array, cookie: Uint8Array): Uint8Array {
  return encodeMessage({ type: "cookie", clientId, cookie });
}

/** The answer to a `tcp-relay-hello` on a server that runs no relay. */
export function relayOff(clientId: Uint8Array): Uint8Array {
  return encodeMessage({ type: "error", clientId, code: ErrorCode.relayOff });
}
