/** The rendezvous client's register(): retransmission, deadlines and option checks. */
import { TimeoutError } from "../../base/mod.ts";
import { register } from "./client.ts";
import { openRegistration, registerRounds } from "./_registration.ts";
import { RendezvousServer } from "../server/mod.ts";
import {
  addr,
  assertEquals,
  assertRejects,
  bytes,
  deadline,
  UdpDatagramPort,
  udpSocket,
} from "../testing/mod.ts";

const LOCAL = { hostname: "127.0.0.1", port: 0 };

Deno.test("register gives up with TimeoutError when the server never answers", async () => {
  using timeout = deadline(5000);
  using silent = udpSocket();
  const silentAddr = silent.addr as Deno.NetAddr;
  await using port = new UdpDatagramPort();
  await assertRejects(
    () =>
      register(port, {
        server: silentAddr,
        role: "send",
        candidates: [],
        serverTimeoutMs: 700,
        signal: timeout.signal,
      }),
    TimeoutError,
    `No answer from rendezvous server 127.0.0.1:${silentAddr.port} after 0.7 s`,
  );
  // It retransmitted with backoff: 300 ms, then 600 ms (cut short by the timeout).
  assertEquals(port.sentSizes.length, 2);
});

Deno.test("register retransmits until lost requests get through", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen(LOCAL);
  await using port = new UdpDatagramPort();
  let dropped = 0;
  const lossy = {
    send: (data: Uint8Array, to: Deno.NetAddr) =>
      dropped++ < 2 ? Promise.resolve() : port.send(data, to),
    receive: (signal: AbortSignal) => port.receive(signal),
  };
  const { promise: confirmed, resolve } = Promise.withResolvers<string>();
  const stop = new AbortController();
  const done = register(lossy, {
    server: server.addr,
    role: "send",
    candidates: [],
    onNameplate: resolve,
    signal: AbortSignal.any([timeout.signal, stop.signal]),
  });
  assertEquals(await confirmed, "1");
  assertEquals(dropped >= 3, true);
  stop.abort(new Error("done"));
  await done.catch(() => {});
});

Deno.test("register rejects bad options with TypeError or RangeError", async () => {
  await using port = new UdpDatagramPort();
  const server = { transport: "udp", hostname: "127.0.0.1", port: 9 } as const;
  await assertRejects(
    () => register(port, { server, role: "receive", candidates: [] }),
    TypeError,
    "needs a nameplate",
  );
  await assertRejects(
    () => register(port, { server, role: "send", nameplate: "0", candidates: [] }),
    TypeError,
    "Invalid nameplate",
  );
  await assertRejects(
    () => register(port, { server, role: "send", candidates: [addr("::ffff:1.2.3.4", 5)] }),
    TypeError,
    "Invalid candidate",
  );
  await assertRejects(
    () => register(port, { server, role: "send", candidates: [], fingerprint: bytes(31, 0) }),
    RangeError,
    "fingerprint",
  );
  assertEquals(port.sentSizes.length, 0);
});

Deno.test("after a failover the pairing names the relay of the server that paired it", async () => {
  using timeout = deadline(15_000);
  const first = RendezvousServer.listen(LOCAL);
  await using second = RendezvousServer.listen(LOCAL);
  await using senderPort = new UdpDatagramPort();
  await using receiverPort = new UdpDatagramPort();
  const plate = Promise.withResolvers<string>();
  // The first server answers the sender's observe (its relay port is learnt there), then dies.
  const registration = await openRegistration(senderPort, {
    server: first.addr,
    fallbacks: [second.addr],
    failoverMs: 300,
    role: "send",
    candidates: [senderPort.addr],
    onNameplate: plate.resolve,
    signal: timeout.signal,
  });
  await first.close();
  const sending = registerRounds(registration);
  const receiving = register(receiverPort, {
    server: second.addr,
    role: "receive",
    nameplate: await plate.promise,
    candidates: [receiverPort.addr],
    signal: timeout.signal,
  });
  const [sender, receiver] = await Promise.all([sending, receiving]);
  assertEquals(sender.relay, receiver.relay);
  assertEquals(sender.relay?.port, second.relayAddr!.port);
});
