/** The rendezvous server: sockets' loops, admission, requests, room answers, metrics. */
export { DEFAULT_RENDEZVOUS_PORT } from "./_serve_options.ts";
export type { ServeOptions } from "./_serve_options.ts";
export { RendezvousServer } from "./server.ts";
