/**
 * `connectPeer` apart from `mod.ts`, which loads the whole peer layer (every link, TLS, QUIC, the
 * PAKE): through this entry, what follows finding the peer loads while a side waits for it
 * (connect.ts), so that a side's register with the rendezvous server does not wait for them.
 * @module
 */
export { type ConnectOptions, connectPeer, type Offered, type PeerSession } from "./connect.ts";
export { dataStreamsFor } from "./link/mod.ts";
