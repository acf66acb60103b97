/**
 * Whether the rendezvous server (or its relay port) still answers: asked once
 * a relayed link went silent, to tell "the relay stopped" from "the peer is gone".
 */
import { withinDeadline } from "../async.ts";
import { CLIENT_ID_SIZE, encodeMessage, isRendezvousDatagram, MAX_REPLY_SIZE } from "./protocol.ts";

/**
 * Sends one `observe` from a fresh UDP socket to `server` and resolves true
 * once any rendezvous datagram comes back from it within `timeoutMs`.
 */
export async function serverAnswers(server: Deno.NetAddr, timeoutMs: number): Promise<boolean> {
  // A socket of the server's family: an IPv4 socket cannot send to an IPv6 relay.
  const hostname = server.hostname.includes(":") ? "::" : "0.0.0.0";
  const socket = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
  const clientId = crypto.getRandomValues(new Uint8Array(CLIENT_ID_SIZE));
  const request = encodeMessage({ type: "observe", clientId }, { padTo: MAX_REPLY_SIZE });
  const answered = (async () => {
    await socket.send(request, server);
    for (;;) {
      const [data, from] = await socket.receive();
      const addr = from as Deno.NetAddr;
      if (addr.port === server.port && isRendezvousDatagram(data)) return true;
    }
  })().catch(() => false);
  try {
    return await withinDeadline(answered, timeoutMs) ?? false;
  } finally {
    socket.close();
  }
}
