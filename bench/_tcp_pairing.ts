/** Two clients paired over TCP by a rendezvous server on loopback: what the relay benches dial the TCP relay with. */
import { connectRendezvousTcp, type Pairing, register } from "../rendezvous/mod.ts";

/** The sender's and the receiver's pairing (their rendezvous connections are closed again). */
export async function pairOverTcp(port: number): Promise<[Pairing, Pairing]> {
  const server: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port };
  await using senderPort = await connectRendezvousTcp(server);
  await using receiverPort = await connectRendezvousTcp(server);
  const plate = Promise.withResolvers<string>();
  const sending = register(senderPort, {
    server,
    role: "send",
    candidates: [],
    onNameplate: plate.resolve,
  });
  const receiving = register(receiverPort, {
    server,
    role: "receive",
    nameplate: await plate.promise,
    candidates: [],
  });
  return await Promise.all([sending, receiving]);
}
