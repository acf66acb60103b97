/** nextReply on a real socket: it gives up at its deadline, never before. */
import { nextReply } from "./_request.ts";
import { assert, deadline, UdpDatagramPort, udpSocket } from "../testing/mod.ts";

Deno.test("nextReply from a silent server returns only once its deadline has passed", async () => {
  using timeout = deadline(10_000);
  using silent = udpSocket();
  await using port = new UdpDatagramPort();
  // A timer may fire up to a millisecond before a fractional delay (setTimeout(3.7) after
  // 3.2 ms here, 1 in 25): a round that ended early let register() send once more than its
  // backoff allows (register_test counted 3 requests in 0.7 s instead of 2).
  for (let round = 0; round < 200; round++) {
    const end = performance.now() + 1 + Math.random();
    const reply = await nextReply(port, {
      server: silent.addr as Deno.NetAddr,
      clientId: new Uint8Array(16),
      deadline: end,
      onCookie: () => Promise.resolve(),
      signal: timeout.signal,
    });
    assert(reply === undefined);
    const early = end - performance.now();
    assert(early <= 0, `round ${round}: returned ${early.toFixed(3)} ms before its deadline`);
  }
});
