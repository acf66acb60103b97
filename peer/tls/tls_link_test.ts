import assert from "node:assert/strict";
import { ConnectionLostError } from "../../base/mod.ts";
import { LINK_IDLE_TIMEOUT_MS } from "../link/mod.ts";
import { randomBytes, withTimeout } from "../../transfer/_test_util.ts";
import { lanPair, pump, relayPair, serverNote } from "./_test_util.ts";

for (const noDelay of [false, true]) {
  Deno.test(`TLS link carries streams opened by either side, bytes intact${serverNote(noDelay)}`, async () => {
    await withTimeout(20_000, async (signal) => {
      await using pair = await lanPair(signal, { noDelay });
      const bytes = randomBytes(3 * 1024 * 1024 + 17, 5);
      const [out, inn] = await Promise.all([
        pair.sender.openStream(),
        pair.receiver.acceptStream(),
      ]);
      const forward = await pump(out, inn, bytes);
      assert.equal(forward.received, forward.sent);
      const [up, down] = await Promise.all([
        pair.receiver.openStream(),
        pair.sender.acceptStream(),
      ]);
      const backward = await pump(up, down, bytes.subarray(1000));
      assert.equal(backward.received, backward.sent);
      assert.equal(pair.sender.transport, "tcp");
    });
  });
}

for (const noDelay of [false, true]) {
  Deno.test(`TLS link over IPv6 loopback carries a stream, and the default listener takes both families${serverNote(noDelay)}`, async () => {
    await withTimeout(20_000, async (signal) => {
      const bytes = randomBytes(256 * 1024, 3);
      // IPv6 to a listener on every interface, then IPv4 to one: its remote reads 127.0.0.1,
      // not ::ffff:127.0.0.1, or expectedRemoteIp would turn the receiver away.
      for (const address of ["::1", "127.0.0.1"]) {
        await using pair = await lanPair(signal, { address, listen: undefined, noDelay });
        const [out, inn] = await Promise.all([
          pair.sender.openStream(),
          pair.receiver.acceptStream(),
        ]);
        const result = await pump(out, inn, bytes);
        assert.equal(result.received, result.sent, address);
      }
    });
  });
}

for (const noDelay of [false, true]) {
  Deno.test(`TLS link runs many streams at once in both directions, each in order${serverNote(noDelay)}`, async () => {
    await withTimeout(30_000, async (signal) => {
      await using pair = await lanPair(signal, { noDelay });
      const count = 12;
      const runs = [];
      for (let i = 0; i < count; i++) {
        const bytes = randomBytes(200_000 + i * 1013, i + 1);
        const [opener, acceptor] = i % 2 === 0
          ? [pair.sender, pair.receiver]
          : [pair.receiver, pair.sender];
        runs.push(
          Promise.all([opener.openStream(), acceptor.acceptStream()]).then(([a, b]) =>
            pump(a, b, bytes)
          ),
        );
      }
      for (const result of await Promise.all(runs)) assert.equal(result.received, result.sent);
    });
  });
}

for (const noDelay of [false, true]) {
  Deno.test(`TLS link close tells the peer why, and its closed settles with that end${serverNote(noDelay)}`, async () => {
    await withTimeout(10_000, async (signal) => {
      await using pair = await lanPair(signal, { noDelay });
      const pendingAccept = assert.rejects(pair.sender.acceptStream(), ConnectionLostError);
      await pair.receiver.close({ failed: true, message: "Interrupted" });
      assert.deepEqual(await pair.sender.closed, { failed: true, message: "Interrupted" });
      assert.equal(await pair.receiver.closed, undefined);
      await pendingAccept;
      await assert.rejects(pair.sender.openStream(), ConnectionLostError);
    });
  });
}

Deno.test("TLS link outlives an event-loop stall longer than its idle timeout: the peer's pings wait unread", async () => {
  await withTimeout(30_000, async (signal) => {
    await using pair = await lanPair(signal);
    const bytes = randomBytes(64 * 1024, 9);
    const [out, inn] = await Promise.all([pair.sender.openStream(), pair.receiver.acceptStream()]);
    const before = await pump(out, inn, bytes);
    assert.equal(before.received, before.sent);
    // Both sides stand still (a long synchronous job): each one's idle timer is due before it
    // has read the PINGs queued meanwhile, which must not count as the peer's silence.
    const until = performance.now() + LINK_IDLE_TIMEOUT_MS + 1_000;
    while (performance.now() < until) { /* a stalled event loop */ }
    const [up, down] = await Promise.all([pair.receiver.openStream(), pair.sender.acceptStream()]);
    const after = await pump(up, down, bytes);
    assert.equal(after.received, after.sent);
  });
});

Deno.test("TLS link through a relay splice carries streams both ways", async () => {
  await withTimeout(20_000, async (signal) => {
    await using pair = await relayPair(signal);
    const { sender, receiver } = pair;
    const bytes = randomBytes(2 * 1024 * 1024, 9);
    const [a, b] = await Promise.all([sender.openStream(), receiver.acceptStream()]);
    const [c, d] = await Promise.all([receiver.openStream(), sender.acceptStream()]);
    const [one, two] = await Promise.all([pump(a, b, bytes), pump(c, d, bytes.subarray(7))]);
    assert.equal(one.received, one.sent);
    assert.equal(two.received, two.sent);
  });
});
