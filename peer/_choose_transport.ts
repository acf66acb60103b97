/**
 * Which link to use for a path (peer/PROTOCOL.md, "Transport choice"): TLS
 * over TCP where TCP reaches (the LAN, the TCP relay), QUIC on a punched
 * public path and as the fallback. Pure: the receiver decides in this order,
 * the sender accepts the same set.
 */
import type { PathKind } from "./punch/mod.ts";

/** `--transport`: auto picks per path; quic or tcp allow only that one. */
export type TransportChoice = "auto" | "quic" | "tcp";

/** One way to set up the link once a path is known. */
export type LinkKind = "lan-tls" | "relay-tls" | "quic";

export const TRANSPORT_CHOICES: readonly TransportChoice[] = ["auto", "quic", "tcp"];

/** The receiver's attempts, in order, once punching chose `path`. */
export function linkAttempts(path: PathKind, choice: TransportChoice): LinkKind[] {
  switch (path) {
    case "lan":
      return choice === "quic" ? ["quic"] : choice === "tcp" ? ["lan-tls"] : ["lan-tls", "quic"];
    case "direct":
      // A punched public path is UDP only; TCP reaches the peer only through the relay.
      return choice === "tcp" ? ["relay-tls"] : ["quic"];
    case "relay":
      return choice === "quic"
        ? ["quic"]
        : choice === "tcp"
        ? ["relay-tls"]
        : ["relay-tls", "quic"];
  }
}

/** Where no punching happens (a side registered over TCP, or relay only): TCP links only. */
export function tcpOnlyAttempts(options: { lan: boolean; relay: boolean }): LinkKind[] {
  return [
    ...(options.lan ? ["lan-tls" as const] : []),
    ...(options.relay ? ["relay-tls" as const] : []),
  ];
}
