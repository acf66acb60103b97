/**
 * One suite, run against every room store: the memory store and the Redis
 * store (on a redis-server this file starts on a free port) must answer
 * alike. Both run on an injected clock, so expiry is tested without waiting.
 */
import { toHex as hex } from "../../base/mod.ts";
import { MemoryRoomStore, type RoomStore } from "./_room_store.ts";
import { RedisRoomStore } from "./_redis_room_store.ts";
import type { RoomLimits } from "./_rooms.ts";
import { ErrorCode } from "../wire/mod.ts";
import { A, addr, assert, assertEquals, B, bytes, C, receiver, sender } from "../testing/mod.ts";
import { REDIS_SKIP, TestRedis } from "../../scripts/redis_process.ts";

interface Setup {
  clock: { now: number };
  store: RoomStore;
}

type Kind = "memory" | "redis";

let prefixes = 0;

async function withStore(
  kind: Kind,
  limits: Partial<RoomLimits>,
  body: (setup: Setup) => Promise<void>,
): Promise<void> {
  const clock = { now: 1_000_000 };
  let counter = 0;
  const common = {
    ...limits,
    now: () => clock.now,
    random: (out: Uint8Array) => out.fill(++counter),
  };
  if (kind === "memory") {
    await using store = new MemoryRoomStore(common);
    return await body({ clock, store });
  }
  await using redis = await TestRedis.start();
  await using store = new RedisRoomStore({ ...common, url: redis.url, prefix: `t${++prefixes}:` });
  await store.ready(AbortSignal.timeout(5000));
  await body({ clock, store });
}

function suite(name: string, limits: Partial<RoomLimits>, body: (setup: Setup) => Promise<void>) {
  for (const kind of ["memory", "redis"] as const) {
    Deno.test({
      name: `${kind} room store ${name}${kind === "redis" ? REDIS_SKIP.note : ""}`,
      ignore: kind === "redis" && REDIS_SKIP.ignore,
      fn: () => withStore(kind, limits, body),
    });
  }
}

suite("pairs a sender and a receiver and gives both the same token", {}, async ({ store }) => {
  assertEquals(await store.register(sender(1), A, "a", "tcp"), {
    kind: "waiting",
    nameplate: "1",
    observed: A,
  });
  const forReceiver = await store.register(receiver(2, "1"), B, "b", "udp");
  const forSender = await store.register(sender(1, "1"), A, "a", "tcp");
  assert(forReceiver.kind === "paired" && forSender.kind === "paired");
  assertEquals(forReceiver.token, forSender.token);
  assertEquals(forReceiver.observed, B);
  assertEquals(forReceiver.peer, {
    id: bytes(16, 1),
    observed: A,
    candidates: [addr("192.168.1.10", 5000)],
    fingerprint: bytes(32, 1),
    transport: "tcp",
  });
  assertEquals(forSender.peer, { id: bytes(16, 2), observed: B, candidates: [], transport: "udp" });
  assertEquals(store.pairings, 1);
});

suite("allocates the lowest free nameplate and reuses freed ones", {}, async ({ clock, store }) => {
  for (let id = 1; id <= 3; id++) await store.register(sender(id), A, `s${id}`, "udp");
  assert(await store.leave(bytes(16, 2), "2"));
  assertEquals((await store.register(sender(4), A, "s4", "udp")).nameplate, "2");
  assertEquals((await store.register(sender(5, "5"), A, "s5", "udp")).kind, "waiting");
  assertEquals((await store.register(sender(6), A, "s6", "udp")).nameplate, "4");
  assertEquals((await store.register(sender(7), A, "s7", "udp")).nameplate, "6");
  // Everything but 1 goes idle; 1 keeps polling.
  clock.now += 6000;
  await store.register(sender(1), A, "s1", "udp");
  clock.now += 5000;
  assertEquals(await store.rooms(), 1);
  assertEquals((await store.register(sender(8), A, "s8", "udp")).nameplate, "2");
});

suite("answers retransmissions idempotently by client id", {}, async ({ store }) => {
  const first = await store.register(sender(1), A, "a", "udp");
  assertEquals(await store.register(sender(1), A, "a", "udp"), first);
  assertEquals(await store.rooms(), 1);
  const paired = await store.register(receiver(2, "1"), B, "b", "udp");
  assertEquals(await store.register(receiver(2, "1"), B, "b", "udp"), paired);
  assertEquals(
    await store.register(sender(1), A, "a", "udp"),
    await store.register(sender(1, "1"), A, "a", "udp"),
  );
  assertEquals(store.pairings, 1);
});

suite(
  "refuses a third party, a missing sender, a taken nameplate, one id in both roles",
  {},
  async ({ store }) => {
    assertEquals(await store.register(receiver(2, "7"), B, "b", "udp"), {
      kind: "error",
      code: ErrorCode.noSender,
      nameplate: "7",
    });
    await store.register(sender(1, "7"), A, "a", "udp");
    assertEquals((await store.register(receiver(1, "7"), A, "a", "udp")).kind, "error");
    assertEquals((await store.register(sender(1, "8"), A, "a", "udp")).kind, "error");
    assertEquals(await store.register(sender(3, "7"), C, "c", "udp"), {
      kind: "error",
      code: ErrorCode.nameplateInUse,
      nameplate: "7",
    });
    await store.register(receiver(2, "7"), B, "b", "udp");
    assertEquals(await store.register(receiver(3, "7"), C, "c", "udp"), {
      kind: "error",
      code: ErrorCode.roomFull,
      nameplate: "7",
    });
  },
);

suite(
  "frees a waiting room when its sender stops polling",
  { idleTimeoutMs: 10_000 },
  async ({ clock, store }) => {
    await store.register(sender(1, "7"), A, "a", "udp");
    clock.now += 9_000;
    await store.register(sender(1, "7"), A, "a", "udp");
    clock.now += 9_000;
    assertEquals((await store.register(receiver(2, "7"), B, "b", "udp")).kind, "paired");
    await store.register(sender(3, "8"), A, "a", "udp");
    clock.now += 10_000;
    assertEquals((await store.register(receiver(4, "8"), B, "b", "udp")).kind, "error");
    assertEquals(await store.register({ ...sender(3, "8"), poll: true }, A, "a", "udp"), {
      kind: "error",
      code: ErrorCode.expired,
      nameplate: "8",
    });
  },
);

suite(
  "frees a waiting room after maxWaitMs even while polled",
  { maxWaitMs: 60_000 },
  async ({ clock, store }) => {
    await store.register(sender(1, "7"), A, "a", "udp");
    const poll = { ...sender(1, "7"), poll: true };
    for (let t = 5_000; t < 60_000; t += 5_000) {
      clock.now += 5_000;
      assertEquals((await store.register(poll, A, "a", "udp")).kind, "waiting");
    }
    clock.now += 5_000;
    assertEquals((await store.register(receiver(2, "7"), B, "b", "udp")).kind, "error");
    assertEquals(await store.rooms(), 0);
  },
);

suite(
  "does not give back a room that outlived maxWaitMs, for idleTimeoutMs",
  { maxWaitMs: 60_000, idleTimeoutMs: 10_000 },
  async ({ clock, store }) => {
    await store.register(sender(1, "42"), A, "a", "udp");
    for (let t = 5_000; t <= 60_000; t += 5_000) {
      clock.now += 5_000;
      await store.register({ ...sender(1, "42"), poll: true }, A, "a", "udp");
    }
    const expired = { kind: "error", code: ErrorCode.expired, nameplate: "42" };
    assertEquals(await store.register(sender(1, "42"), A, "a", "udp"), expired);
    // Another sender may take the nameplate; the memory of the expiry fades after idleTimeoutMs.
    assertEquals((await store.register(sender(3, "42"), C, "c", "udp")).kind, "waiting");
    clock.now += 10_000;
    assertEquals((await store.register(sender(1), A, "a", "udp")).kind, "waiting");
  },
);

suite("keeps a paired room for pairedLingerMs, finds its peers by token, then frees it", {
  pairedLingerMs: 30_000,
}, async ({ clock, store }) => {
  await store.register(sender(1, "7"), A, "a", "udp");
  const paired = await store.register(receiver(2, "7"), B, "b", "udp");
  assert(paired.kind === "paired");
  const key = hex(paired.token);
  assertEquals(await store.pairedPeers(key), [bytes(16, 1), bytes(16, 2)]);
  assertEquals(await store.pairedPeers(hex(bytes(16, 0xee))), undefined);
  assert(await store.leave(bytes(16, 1), "7"), "one peer left: the room stays for the other");
  clock.now += 29_000;
  assertEquals(await store.register(receiver(2, "7"), B, "b", "udp"), paired);
  clock.now += 1_000;
  assertEquals((await store.register(receiver(2, "7"), B, "b", "udp")).kind, "error");
  assertEquals(await store.pairedPeers(key), undefined);
  assertEquals(await store.register(sender(3, "7"), C, "c", "udp"), {
    kind: "waiting",
    nameplate: "7",
    observed: C,
  });
});

suite(
  "tells a receiver that a sender serving several receivers is busy, until it is back or maxWait",
  { maxWaitMs: 60_000 },
  async ({ clock, store }) => {
    const several = { ...sender(1, "7"), successor: bytes(32, 9) };
    const busy = { kind: "error", code: ErrorCode.roomFull, nameplate: "7" };
    const none = { kind: "error", code: ErrorCode.noSender, nameplate: "7" };
    await store.register(several, A, "a", "udp");
    assertEquals((await store.register(receiver(2, "7"), B, "b", "udp")).kind, "paired");
    assertEquals(await store.register(receiver(3, "7"), C, "c", "udp"), busy);
    assert(await store.leave(bytes(16, 2), "7"));
    assert(await store.leave(bytes(16, 1), "7"));
    // The nameplate is free again, but its sender will be back for the next receiver.
    assertEquals(await store.register(receiver(3, "7"), C, "c", "udp"), busy);
    assertEquals((await store.register(sender(4, "7"), A, "a", "udp")).kind, "waiting");
    assertEquals((await store.register(receiver(3, "7"), C, "c", "udp")).kind, "paired");
    // A sender of one receiver leaves nothing behind: the next receiver hears there is none.
    await store.register(sender(5, "8"), A, "a", "udp");
    await store.register(receiver(6, "8"), B, "b", "udp");
    assert(await store.leave(bytes(16, 5), "8") && await store.leave(bytes(16, 6), "8"));
    assertEquals(await store.register(receiver(3, "8"), C, "c", "udp"), {
      ...none,
      nameplate: "8",
    });
    // A sender that never comes back: after maxWait the nameplate has no sender again.
    await store.register({ ...sender(7, "9"), successor: bytes(32, 9) }, A, "a", "udp");
    await store.register(receiver(8, "9"), B, "b", "udp");
    assert(await store.leave(bytes(16, 7), "9") && await store.leave(bytes(16, 8), "9"));
    assertEquals(await store.register(receiver(3, "9"), C, "c", "udp"), {
      ...busy,
      nameplate: "9",
    });
    clock.now += 60_000;
    assertEquals(await store.register(receiver(3, "9"), C, "c", "udp"), {
      ...none,
      nameplate: "9",
    });
  },
);

suite(
  "frees a paired room's nameplate once both peers left; its token lives out the linger",
  { pairedLingerMs: 30_000, maxRoomsPerSource: 2 },
  async ({ clock, store }) => {
    await store.register(sender(1, "7"), A, "a", "udp");
    const paired = await store.register(receiver(2, "7"), B, "b", "udp");
    assert(paired.kind === "paired");
    const key = hex(paired.token);
    assert(await store.leave(bytes(16, 2), "7"));
    assertEquals((await store.register(sender(3, "7"), C, "c", "udp")).kind, "error");
    assert(await store.leave(bytes(16, 1), "7"));
    assertEquals(await store.register(sender(3, "7"), C, "c", "udp"), {
      kind: "waiting",
      nameplate: "7",
      observed: C,
    });
    // The relay still knows the old pair, but the old room no longer counts as open for its
    // source: both places of its quota take new rooms.
    assertEquals(await store.pairedPeers(key), [bytes(16, 1), bytes(16, 2)]);
    assertEquals((await store.register(sender(4), A, "a", "udp")).kind, "waiting");
    assertEquals((await store.register(sender(5), A, "a", "udp")).kind, "waiting");
    assertEquals(await store.register(sender(6), A, "a", "udp"), {
      kind: "error",
      code: ErrorCode.tooManyRooms,
    });
    clock.now += 30_000;
    assertEquals(await store.pairedPeers(key), undefined);
  },
);

suite(
  "counts rooms both peers left apart from a source's open rooms, bounded at 4 per place",
  { pairedLingerMs: 30_000, maxRoomsPerSource: 1 },
  async ({ clock, store }) => {
    // One source's transfers one after another: each room paired and left by both.
    for (let id = 1; id <= 4; id++) {
      assertEquals((await store.register(sender(10 + id, "7"), A, "a", "udp")).kind, "waiting");
      assertEquals((await store.register(receiver(20 + id, "7"), B, "b", "udp")).kind, "paired");
      assert(await store.leave(bytes(16, 10 + id), "7"));
      assert(await store.leave(bytes(16, 20 + id), "7"));
    }
    // Four released rooms fill the source's share; another source is not held back.
    assertEquals(await store.register(sender(15, "7"), A, "a", "udp"), {
      kind: "error",
      code: ErrorCode.tooManyRooms,
      limit: 4,
    });
    assertEquals((await store.register(sender(16, "7"), C, "c", "udp")).kind, "waiting");
    clock.now += 30_000;
    assertEquals((await store.register(sender(15, "8"), A, "a", "udp")).kind, "waiting");
  },
);

suite("tracks a waiting sender's new address but freezes it once paired", {}, async ({ store }) => {
  await store.register(sender(1, "7"), A, "a", "udp");
  assertEquals(await store.register(sender(1, "7"), C, "a", "udp"), {
    kind: "waiting",
    nameplate: "7",
    observed: C,
  });
  const paired = await store.register(receiver(2, "7"), B, "b", "udp");
  assert(paired.kind === "paired");
  assertEquals(paired.peer.observed, C);
  const again = await store.register(sender(1, "7"), A, "a", "udp");
  assert(again.kind === "paired");
  assertEquals(again.observed, C);
});

suite(
  "caps rooms in total and per source",
  { maxRooms: 5, maxRoomsPerSource: 3 },
  async ({ store }) => {
    for (let id = 1; id <= 3; id++) {
      assertEquals((await store.register(sender(id), A, "a", "udp")).kind, "waiting");
    }
    assertEquals(await store.register(sender(4), A, "a", "udp"), {
      kind: "error",
      code: ErrorCode.tooManyRooms,
    });
    assertEquals((await store.register(sender(5), B, "b", "udp")).kind, "waiting");
    assertEquals((await store.register(sender(6), B, "b", "udp")).kind, "waiting");
    assertEquals(await store.register(sender(7), C, "c", "udp"), {
      kind: "error",
      code: ErrorCode.serverFull,
    });
    assert(!(await store.leave(bytes(16, 9), "1")), "only the waiting sender leaves");
    assert(await store.leave(bytes(16, 1), "1"));
    assertEquals((await store.register(sender(4), A, "a", "udp")).kind, "waiting");
  },
);

suite("passes each peer's NAT mapping to the other", {}, async ({ store }) => {
  await store.register({ ...sender(1), nat: "endpoint-dependent" }, A, "a", "udp");
  const forReceiver = await store.register({ ...receiver(2, "1"), nat: "none" }, B, "b", "udp");
  const forSender = await store.register(sender(1, "1"), A, "a", "udp");
  assert(forReceiver.kind === "paired" && forSender.kind === "paired");
  assertEquals([forReceiver.peer.nat, forSender.peer.nat], ["endpoint-dependent", "none"]);
});

suite("passes a relay-only wish to the other peer", {}, async ({ store }) => {
  await store.register({ ...sender(1), candidates: [], relayOnly: true }, A, "a", "udp");
  const forReceiver = await store.register({ ...receiver(2, "1") }, B, "b", "udp");
  const forSender = await store.register(sender(1, "1"), A, "a", "udp");
  assert(forReceiver.kind === "paired" && forSender.kind === "paired");
  assertEquals([forReceiver.peer.relayOnly, forSender.peer.relayOnly], [true, undefined]);
});
