/**
 * A server on a shared store (Redis) over real sockets: pairs as before,
 * answers each request with error 13 while Redis is down (and keeps running),
 * and serves again once Redis returns.
 */
import { decodeMessage, encodeMessage, ErrorCode, MAX_REPLY_SIZE } from "../wire/mod.ts";
import { RendezvousServer } from "./server.ts";
import {
  addr,
  assert,
  assertEquals,
  assertRegisterRefused,
  bytes,
  cookieFor,
  deadline,
  exchange,
  pairThrough,
  udpSocket,
} from "../testing/mod.ts";
import { REDIS_SKIP, TestRedis } from "../../scripts/redis_process.ts";

const { ignore, note } = REDIS_SKIP;

function registerRequest(id: number, cookie: Uint8Array): Uint8Array {
  return encodeMessage({
    type: "register",
    role: "send",
    clientId: bytes(16, id),
    candidates: [],
    cookie,
  }, { padTo: MAX_REPLY_SIZE });
}

Deno.test({
  name: "a server on Redis pairs peers and names its own relay in paired" + note,
  ignore,
  fn: async () => {
    using timeout = deadline(10_000);
    await using redis = await TestRedis.start();
    await using server = RendezvousServer.listen({
      hostname: "127.0.0.1",
      port: 0,
      store: redis.url,
      publicAddress: "127.0.0.9",
    });
    await server.ready(timeout.signal);
    const { sender, receiver } = await pairThrough(server, timeout.signal);
    assertEquals(sender.token, receiver.token);
    const relay = addr("127.0.0.9", server.relayAddr!.port);
    assertEquals([sender.relay, receiver.relay], [relay, relay]);
    assertEquals(server.stats().pairings, 1);
    assert(server.stats().storeRoundTrips >= 4);
  },
});

Deno.test({
  name: "a server whose Redis stops answers each request with a clear error and recovers" + note,
  ignore,
  fn: async () => {
    using timeout = deadline(20_000);
    await using redis = await TestRedis.start();
    await using server = RendezvousServer.listen({
      hostname: "127.0.0.1",
      port: 0,
      store: redis.url,
    });
    await server.ready(timeout.signal);
    using conn = udpSocket();
    const cookie = await cookieFor(conn, server.addr);
    const first = decodeMessage((await exchange(conn, registerRequest(1, cookie), server.addr))!);
    assertEquals(first.type, "waiting");
    await redis.stop();
    for (const id of [2, 3]) {
      const refused = decodeMessage(
        (await exchange(conn, registerRequest(id, cookie), server.addr))!,
      );
      assert(refused.type === "error");
      assertEquals(refused.code, ErrorCode.storeUnavailable);
    }
    await assertRegisterRefused(
      server.addr,
      { role: "send", signal: timeout.signal },
      `Rendezvous server 127.0.0.1:${server.addr.port} cannot reach its room store right now`,
    );
    assertEquals(server.stats().storeUnavailable, 3);
    await redis.restart();
    await server.ready(timeout.signal);
    const back = decodeMessage((await exchange(conn, registerRequest(4, cookie), server.addr))!);
    assertEquals(back.type, "waiting");
    assert(server.stats().storeErrors > 0);
    assertEquals(server.stats().errors, 0);
  },
});

Deno.test({
  name: "instances on one Redis share a cookie secret: a cookie from one is good at the other" +
    note,
  ignore,
  fn: async () => {
    using timeout = deadline(10_000);
    await using redis = await TestRedis.start();
    const serve = () =>
      RendezvousServer.listen({ hostname: "127.0.0.1", port: 0, store: redis.url, relay: false });
    await using a = serve();
    await using b = serve();
    await a.ready(timeout.signal);
    await b.ready(timeout.signal);
    using conn = udpSocket();
    const cookie = await cookieFor(conn, a.addr);
    const reply = decodeMessage((await exchange(conn, registerRequest(1, cookie), b.addr))!);
    assertEquals(reply.type, "waiting");
    assertEquals(b.stats().cookies, 0);
  },
});
