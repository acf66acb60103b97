import { assert, assertEquals } from "../testing/mod.ts";
import { RendezvousServer } from "../server/mod.ts";
import { serverAnswers } from "./server_answers.ts";

Deno.test("serverAnswers: the relay port answers a relay check, a stopped server does not", async () => {
  const server = RendezvousServer.listen({ hostname: "127.0.0.1", port: 0 });
  const main = { transport: "udp" as const, hostname: "127.0.0.1", port: server.addr.port };
  const relay = { transport: "udp" as const, hostname: "127.0.0.1", port: server.relayAddr!.port };
  try {
    assert(await serverAnswers(relay, 2000, "relay"));
    assert(await serverAnswers(main, 2000, "main"));
    // The relay port refuses an observe: asking it as the main port gets nothing.
    assertEquals(await serverAnswers(relay, 300, "main"), false);
    assertEquals(server.stats().relaySessions, 0, "a relay check opens no relay session");
  } finally {
    await server.close();
  }
  assertEquals(await serverAnswers(relay, 300, "relay"), false);
});
