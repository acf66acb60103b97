/**
 * Whether the rendezvous server (or its relay port) still answers: asked once
 * a relayed link went silent, to tell "the relay stopped" from "the peer is gone".
 */
import { withinDeadline } from "../../base/mod.ts";
import {
  CLIENT_ID_SIZE,
  encodeMessage,
  isRendezvousDatagram,
  MAX_REPLY_SIZE,
  TOKEN_SIZE,
} from "../wire/mod.ts";

/**
 * Sends one request from a fresh UDP socket to `server` and resolves true once
 * any rendezvous datagram comes back from it within `timeoutMs`. `port`: which
 * of the server's ports `server` is. The main port takes an `observe`; the
 * relay port takes only `relay-hello`, which it answers with a cookie (a
 * random token, so no relay session is touched).
 */
export async function serverAnswers(
  server: Deno.NetAddr,
  timeoutMs: number,
  port: "main" | "relay" = "main",
): Promise<boolean> {
  // A socket of the server's family: an IPv4 socket cannot send to an IPv6 relay.
  const hostname = server.hostname.includes(":") ? "::" : "0.0.0.0";
  const socket = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
  const clientId = crypto.getRandomValues(new Uint8Array(CLIENT_ID_SIZE));
  const request = encodeMessage(
    port === "main" ? { type: "observe", clientId } : {
      type: "relay-hello",
      clientId,
      token: crypto.getRandomValues(new Uint8Array(TOKEN_SIZE)),
    },
    { padTo: MAX_REPLY_SIZE },
  );
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
