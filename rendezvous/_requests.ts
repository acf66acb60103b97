/** Which requests each of the server's ports takes. Pure. */
import type { ObservationMessage, RendezvousMessage } from "./protocol.ts";

/** Which of the server's sockets a datagram came in on. */
export type PortKind = "main" | "alt" | "relay";

/** The messages a client sends; everything else is a reply. */
export type RequestMessage = Extract<
  RendezvousMessage,
  { type: "register" | "leave" | "observe" | "relay-hello" | "tcp-relay-hello" }
>;

/**
 * Why the `kind` port does not take `message` (over TCP: the main port
 * number), or undefined when it does. `relays`: the server runs a relay.
 */
export function refusal(
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
export function observationOf(
  clientId: Uint8Array,
  from: Deno.NetAddr,
  alt: Deno.NetAddr,
  relay: Deno.NetAddr | undefined,
): ObservationMessage {
  const observation: ObservationMessage = {
    type: "observation",
    clientId,
    observed: { transport: "udp", hostname: from.hostname, port: from.port },
    altPort: alt.port,
  };
  if (relay) observation.relayPort = relay.port;
  return observation;
}
