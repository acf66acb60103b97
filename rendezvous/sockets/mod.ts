/** The server's sockets below the protocol: binding, TCP accept loops, caps, deadlines. */
export {
  bindServerSockets,
  bindSockets,
  netAddr,
  receiveDatagram,
  receiveFailure,
} from "./_bind.ts";
export type { BoundSockets, Ports, Received } from "./_bind.ts";
export { closeQuietly, Deadline, TcpConnections } from "./_tcp_connections.ts";
export type { TcpLimits } from "./_tcp_connections.ts";
