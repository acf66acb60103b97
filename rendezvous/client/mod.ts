/** The rendezvous client: register, observe the NAT, fail over, relay hellos, TCP channel. */
export { ALT_TIMEOUT_MS, observeNat } from "./_observe.ts";
export type { NatObservation } from "./_observe.ts";
export { askTcpRelay } from "./ask_tcp_relay.ts";
export type { AskTcpRelayOptions, RelayVerdict } from "./ask_tcp_relay.ts";
export { NameplateInUseError, NoSenderError } from "./_describe_error.ts";
export { register } from "./client.ts";
export type { DatagramPort, Pairing, RegisterOptions } from "./client.ts";
export { ClientIdChain } from "./client_ids.ts";
export { dialTcpRelay, dialTcpRelayWith } from "./dial_tcp_relay.ts";
export type { DialTcpRelayOptions, RelayConn, RelayConnect } from "./dial_tcp_relay.ts";
export { relayHello } from "./relay_hello.ts";
export type { RelayHelloOptions } from "./relay_hello.ts";
export { serverAnswers } from "./server_answers.ts";
export { connectRendezvousTcp, connectTcp } from "./tcp_rendezvous_port.ts";
export type { ConnectRendezvousTcpOptions, TcpRendezvousPort } from "./tcp_rendezvous_port.ts";
