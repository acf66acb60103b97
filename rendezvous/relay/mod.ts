/** The server's relays: UDP datagrams and TCP streams, with their limits. */
export { relayLoop } from "./_relay_loop.ts";
export { relayHelloReplies, RelayTable } from "./_relay_sessions.ts";
export type { Outgoing, RelayLimits } from "./_relay_sessions.ts";
export { TcpRelay } from "./_tcp_relay.ts";
export { checkBucket, TokenBucket } from "./_token_bucket.ts";
