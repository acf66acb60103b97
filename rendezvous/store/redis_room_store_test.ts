/**
 * What only the shared store does: rooms seen by several instances (each
 * naming its relay), and Redis going away and coming back. What every store
 * must answer alike is room_store_test.ts. Each test starts a redis-server on
 * a free port.
 */
import { StoreUnavailableError, toHex as hex } from "../../base/mod.ts";
import { RedisRoomStore } from "./_redis_room_store.ts";
import {
  A,
  addr,
  assert,
  assertEquals,
  assertRejects,
  B,
  bytes,
  C,
  receiver,
  sender,
} from "../testing/mod.ts";
import { REDIS_SKIP, TestRedis } from "../../scripts/redis_process.ts";

Deno.test({
  name: "redis room stores of two instances pair peers across them and name the sender's relay" +
    REDIS_SKIP.note,
  ignore: REDIS_SKIP.ignore,
  fn: async () => {
    await using redis = await TestRedis.start();
    const relayA = addr("127.0.0.2", 9002);
    await using a = new RedisRoomStore({ url: redis.url, relay: relayA });
    await using b = new RedisRoomStore({ url: redis.url, relay: addr("127.0.0.3", 9002) });
    await Promise.all([a.ready(), b.ready()]);
    assertEquals((await a.register(sender(1), A, "a", "udp")).nameplate, "1");
    const forReceiver = await b.register(receiver(2, "1"), B, "b", "udp");
    const forSender = await a.register(sender(1, "1"), A, "a", "udp");
    assert(forReceiver.kind === "paired" && forSender.kind === "paired");
    assertEquals([forReceiver.relay, forSender.relay], [relayA, relayA]);
    assertEquals(await b.pairedPeers(hex(forSender.token)), [bytes(16, 1), bytes(16, 2)]);
    // A sender whose instance died re-registers at another: its room moves, the relay with it.
    assertEquals((await b.register(sender(3), C, "c", "udp")).nameplate, "2");
    assertEquals(
      (await a.register({ ...sender(3, "2"), poll: true }, C, "c", "udp")).kind,
      "waiting",
    );
    const moved = await b.register(receiver(4, "2"), B, "b", "udp");
    assert(moved.kind === "paired");
    assertEquals(moved.relay, relayA);
    assertEquals(await a.rooms(), 2);
    // A sender at an instance without a relay: the receiver's instance relays for both.
    await using noRelay = new RedisRoomStore({ url: redis.url });
    await noRelay.ready();
    assertEquals((await noRelay.register(sender(5), C, "c", "udp")).nameplate, "3");
    const viaB = await b.register(receiver(6, "3"), B, "b", "udp");
    const viaNoRelay = await noRelay.register(sender(5, "3"), C, "c", "udp");
    assert(viaB.kind === "paired" && viaNoRelay.kind === "paired");
    assertEquals([viaB.relay, viaNoRelay.relay], [
      addr("127.0.0.3", 9002),
      addr("127.0.0.3", 9002),
    ]);
  },
});

Deno.test({
  name:
    "redis room store fails each request clearly while Redis is down and recovers when it returns" +
    REDIS_SKIP.note,
  ignore: REDIS_SKIP.ignore,
  fn: async () => {
    await using redis = await TestRedis.start();
    const errors: Error[] = [];
    await using store = new RedisRoomStore({
      url: redis.url,
      timeoutMs: 500,
      onError: (error) => errors.push(error),
    });
    await store.ready();
    assertEquals((await store.register(sender(1), A, "a", "udp")).kind, "waiting");
    await redis.stop();
    await assertRejects(
      () => store.register(sender(2), A, "a", "udp"),
      StoreUnavailableError,
      `Room store redis://127.0.0.1:${redis.port}/0`,
    );
    await assertRejects(() => store.rooms(), StoreUnavailableError);
    await redis.restart();
    await store.ready(AbortSignal.timeout(10_000));
    // Redis came back empty (no persistence here): the store loads its script again and serves.
    assertEquals((await store.register(sender(2), A, "a", "udp")).kind, "waiting");
    assert(errors.length > 0, "connection errors were reported");
  },
});
