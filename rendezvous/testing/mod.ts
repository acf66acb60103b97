/** Test support for the rendezvous folders: assertions, samples, sockets, servers. */
export { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
export {
  assertRegisterRefused,
  cookieFor,
  deadline,
  exchange,
  joinAsReceiver,
  joinAsSender,
  nextOther,
  pairThrough,
  relayedPair,
  udpSocket,
  until,
} from "./net.ts";
export { A, addr, B, bytes, C, receiver, SAMPLES, sender } from "./samples.ts";
export { UdpDatagramPort } from "./udp_port.ts";
