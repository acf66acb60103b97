import { RendezvousError } from "../../base/mod.ts";
import { register } from "./client.ts";
import { RendezvousServer } from "../server/mod.ts";
import { assertEquals, assertRejects, deadline, UdpDatagramPort } from "../testing/mod.ts";

Deno.test("a waiting sender takes its nameplate back from a restarted server", async () => {
  using timeout = deadline(8000);
  await using senderPort = new UdpDatagramPort();
  await using receiverPort = new UdpDatagramPort();
  const first = RendezvousServer.listen({ hostname: "127.0.0.1", port: 0 });
  const main = first.addr;
  let named!: () => void;
  const announced = new Promise<void>((resolve) => named = resolve);
  const sending = register(senderPort, {
    server: main,
    role: "send",
    candidates: [],
    onNameplate: () => named(),
    signal: timeout.signal,
  });
  await announced;
  await first[Symbol.asyncDispose]();
  // A new server on the same port knows no rooms.
  await using second = RendezvousServer.listen({ hostname: "127.0.0.1", port: main.port });
  const receiving = register(receiverPort, {
    server: main,
    role: "receive",
    nameplate: "1",
    candidates: [],
    // The sender may not have re-registered yet when the receiver asks first.
    waitForSenderMs: 5000,
    signal: timeout.signal,
  });
  const [sender, receiver] = await Promise.all([sending, receiving]);
  assertEquals(sender.nameplate, "1");
  assertEquals(sender.token, receiver.token);
  assertEquals(second.stats().rooms, 1);
});

Deno.test("a receiver that waits for its sender fails with 'No sender' once the wait passed", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen({ hostname: "127.0.0.1", port: 0 });
  await using port = new UdpDatagramPort();
  let waited = 0;
  const started = performance.now();
  await assertRejects(
    () =>
      register(port, {
        server: server.addr,
        role: "receive",
        nameplate: "9",
        candidates: [],
        waitForSenderMs: 700,
        onWaitingForSender: () => waited++,
        signal: timeout.signal,
      }),
    RendezvousError,
    "No sender is waiting on nameplate 9",
  );
  assertEquals(waited, 1);
  assertEquals(performance.now() - started >= 700, true);
});
