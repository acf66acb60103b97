import { RendezvousServer } from "./server.ts";
import { assert, assertEquals, deadline, pairThrough } from "../testing/mod.ts";

Deno.test("server metrics are Prometheus text that counts a pairing and its room", async () => {
  using timeout = deadline(5000);
  await using server = RendezvousServer.listen({ hostname: "127.0.0.1", port: 0 });
  await pairThrough(server, timeout.signal);
  const text = await server.metrics();
  const samples = text.split("\n").filter((line) => line !== "" && !line.startsWith("#"));
  for (const line of samples) {
    assert(/^p2pft_[a-z_]+(\{[a-z_]+="[^"]*"\})? [0-9.e+-]+$/.test(line), line);
  }
  assert(samples.includes("p2pft_pairings_total 1"));
  assert(samples.includes("p2pft_rooms 1"));
  assert(samples.includes('p2pft_info{store="memory"} 1'));
  assertEquals(samples.filter((line) => line.startsWith("p2pft_store_latency")), []);
});
