import { createHash } from "node:crypto";
import { toHex as hex } from "../../base/mod.ts";
import { RoomTable, type RoomTableOptions } from "./_rooms.ts";
import { ErrorCode, type RegisterMessage } from "../wire/mod.ts";
import { A, addr, assert, assertEquals, B, bytes, C, receiver, sender } from "../testing/mod.ts";

function setup(options: Partial<RoomTableOptions> = {}) {
  const clock = { now: 0 };
  let counter = 0;
  const table = new RoomTable({
    now: () => clock.now,
    random: (out) => out.fill(++counter),
    ...options,
  });
  return { clock, table };
}

Deno.test("RoomTable tells each peer how the other registered", () => {
  const { table } = setup();
  table.register(sender(1), A, "a", "tcp");
  const forReceiver = table.register(receiver(2, "1"), B, "b", "udp");
  const forSender = table.register(sender(1, "1"), A, "a", "tcp");
  assert(forReceiver.kind === "paired" && forSender.kind === "paired");
  assertEquals([forReceiver.peer.transport, forSender.peer.transport], ["tcp", "udp"]);
});

Deno.test("RoomTable pairs a sender and a receiver and gives both the same token", () => {
  const { table } = setup();
  assertEquals(table.register(sender(1), A, "a"), { kind: "waiting", nameplate: "1", observed: A });
  const forReceiver = table.register(receiver(2, "1"), B, "b");
  const forSender = table.register(sender(1, "1"), A, "a");
  assert(forReceiver.kind === "paired" && forSender.kind === "paired");
  assertEquals(forReceiver.token, forSender.token);
  assertEquals(forReceiver.observed, B);
  assertEquals(forReceiver.peer, {
    id: bytes(16, 1),
    observed: A,
    candidates: [addr("192.168.1.10", 5000)],
    fingerprint: bytes(32, 1),
    transport: "udp",
  });
  assertEquals(forSender.observed, A);
  assertEquals(forSender.peer, { id: bytes(16, 2), observed: B, candidates: [], transport: "udp" });
  assertEquals(table.pairings, 1);
});

Deno.test("RoomTable allocates the lowest free nameplate and reuses freed ones", () => {
  const { clock, table } = setup({ idleTimeoutMs: 10_000 });
  for (let id = 1; id <= 3; id++) table.register(sender(id), A, `s${id}`);
  assert(table.leave(bytes(16, 2), "2"));
  assertEquals(table.register(sender(4), A, "s4"), {
    kind: "waiting",
    nameplate: "2",
    observed: A,
  });
  assertEquals(table.register(sender(5, "5"), A, "s5").kind, "waiting");
  assertEquals(table.register(sender(6), A, "s6"), {
    kind: "waiting",
    nameplate: "4",
    observed: A,
  });
  assertEquals(table.register(sender(7), A, "s7"), {
    kind: "waiting",
    nameplate: "6",
    observed: A,
  });
  // Everything but 1 goes idle; 1 keeps polling.
  clock.now = 6000;
  table.register(sender(1), A, "s1");
  clock.now = 11_000;
  table.sweep();
  assertEquals(table.size, 1);
  assertEquals(table.register(sender(8), A, "s8"), {
    kind: "waiting",
    nameplate: "2",
    observed: A,
  });
});

Deno.test("RoomTable answers retransmissions idempotently by client id", () => {
  const { table } = setup();
  const first = table.register(sender(1), A, "a");
  assertEquals(table.register(sender(1), A, "a"), first); // the same allocation request again
  assertEquals(table.size, 1);
  const paired = table.register(receiver(2, "1"), B, "b");
  assertEquals(table.register(receiver(2, "1"), B, "b"), paired);
  assertEquals(table.register(sender(1), A, "a"), table.register(sender(1, "1"), A, "a"));
  assertEquals(table.pairings, 1);
});

Deno.test("RoomTable pairs a room only once: a third party gets roomFull", () => {
  const { table } = setup();
  table.register(sender(1), A, "a");
  table.register(receiver(2, "1"), B, "b");
  assertEquals(table.register(receiver(3, "1"), C, "c"), {
    kind: "error",
    code: ErrorCode.roomFull,
    nameplate: "1",
  });
  assertEquals(table.register(sender(3, "1"), C, "c"), {
    kind: "error",
    code: ErrorCode.nameplateInUse,
    nameplate: "1",
  });
});

Deno.test("RoomTable refuses a receiver on a nameplate without a sender", () => {
  const { table } = setup();
  assertEquals(table.register(receiver(2, "7"), B, "b"), {
    kind: "error",
    code: ErrorCode.noSender,
    nameplate: "7",
  });
  assertEquals(table.size, 0);
});

Deno.test("RoomTable refuses a second sender on a taken nameplate", () => {
  const { table } = setup();
  assertEquals(table.register(sender(1, "7"), A, "a").kind, "waiting");
  assertEquals(table.register(sender(2, "7"), B, "b"), {
    kind: "error",
    code: ErrorCode.nameplateInUse,
    nameplate: "7",
  });
});

Deno.test("RoomTable refuses one client id in both roles", () => {
  const { table } = setup();
  table.register(sender(1, "7"), A, "a");
  assertEquals(table.register(receiver(1, "7"), A, "a").kind, "error");
  assertEquals(table.register(sender(1, "8"), A, "a").kind, "error");
});

Deno.test("RoomTable frees a waiting room when its sender stops polling", () => {
  const { clock, table } = setup({ idleTimeoutMs: 10_000 });
  table.register(sender(1, "7"), A, "a");
  clock.now = 9_000;
  table.register(sender(1, "7"), A, "a"); // a poll
  clock.now = 18_000;
  assertEquals(table.register(receiver(2, "7"), B, "b").kind, "paired");
  const { clock: clock2, table: table2 } = setup({ idleTimeoutMs: 10_000 });
  table2.register(sender(1, "7"), A, "a");
  clock2.now = 10_000;
  assertEquals(table2.register(receiver(2, "7"), B, "b").kind, "error");
  assertEquals(table2.size, 0);
});

Deno.test("RoomTable frees a waiting room after maxWaitMs even while polled", () => {
  const { clock, table } = setup({ maxWaitMs: 60_000 });
  table.register(sender(1, "7"), A, "a");
  const poll = { ...sender(1, "7"), poll: true };
  for (clock.now = 5_000; clock.now < 60_000; clock.now += 5_000) {
    assertEquals(table.register(poll, A, "a").kind, "waiting");
  }
  assertEquals(table.register(receiver(2, "7"), B, "b").kind, "error");
  // A poll cannot bring the room back: the sender learns it expired.
  assertEquals(table.register(poll, A, "a"), {
    kind: "error",
    code: ErrorCode.expired,
    nameplate: "7",
  });
  assertEquals(table.size, 0);
});

Deno.test("RoomTable keeps a paired room answerable for pairedLingerMs, then frees it", () => {
  const { clock, table } = setup({ pairedLingerMs: 30_000 });
  table.register(sender(1, "7"), A, "a");
  const paired = table.register(receiver(2, "7"), B, "b");
  clock.now = 29_000;
  assertEquals(table.register(receiver(2, "7"), B, "b"), paired);
  clock.now = 30_000;
  assertEquals(table.register(receiver(2, "7"), B, "b").kind, "error");
  assertEquals(table.size, 0);
  // The nameplate is free again for a new sender.
  assertEquals(table.register(sender(3, "7"), C, "c"), {
    kind: "waiting",
    nameplate: "7",
    observed: C,
  });
});

Deno.test("RoomTable tracks a waiting sender's new address but freezes it once paired", () => {
  const { table } = setup();
  table.register(sender(1, "7"), A, "a");
  assertEquals(table.register(sender(1, "7"), C, "a"), {
    kind: "waiting",
    nameplate: "7",
    observed: C,
  });
  const paired = table.register(receiver(2, "7"), B, "b");
  assert(paired.kind === "paired");
  assertEquals(paired.peer.observed, C);
  const again = table.register(sender(1, "7"), A, "a");
  assert(again.kind === "paired");
  assertEquals(again.observed, C);
});

Deno.test("RoomTable caps rooms in total and per source", () => {
  const { table } = setup({ maxRooms: 5, maxRoomsPerSource: 3 });
  for (let id = 1; id <= 3; id++) assertEquals(table.register(sender(id), A, "a").kind, "waiting");
  assertEquals(table.register(sender(4), A, "a"), { kind: "error", code: ErrorCode.tooManyRooms });
  assertEquals(table.register(sender(5), B, "b").kind, "waiting");
  assertEquals(table.register(sender(6), B, "b").kind, "waiting");
  assertEquals(table.register(sender(7), C, "c"), { kind: "error", code: ErrorCode.serverFull });
  assert(table.leave(bytes(16, 1), "1"));
  assertEquals(table.register(sender(4), A, "a").kind, "waiting");
});

Deno.test("RoomTable lets only the waiting sender leave, and a paired room's peers", () => {
  const { table } = setup();
  table.register(sender(1, "7"), A, "a");
  assert(!table.leave(bytes(16, 9), "7"));
  assert(!table.leave(bytes(16, 1), "8"));
  table.register(receiver(2, "7"), B, "b");
  assert(!table.leave(bytes(16, 9), "7"));
  assert(table.leave(bytes(16, 1), "7"));
  // One peer left: the room still answers the other's retransmissions.
  assertEquals(table.size, 1);
  assertEquals(table.register(receiver(2, "7"), B, "b").kind, "paired");
  assert(table.leave(bytes(16, 2), "7"));
  // Both left: the nameplate takes a new sender; the old room lives on by its token.
  assertEquals(table.register(sender(3, "7"), C, "c").kind, "waiting");
  assertEquals(table.size, 2);
});

Deno.test("RoomTable answers serverFull when every nameplate is taken", () => {
  const { table } = setup({ maxRooms: 200_000, maxRoomsPerSource: 200_000 });
  table.register(sender(0, "99999"), A, "a");
  for (let i = 1; i < 99_999; i++) {
    const id = new Uint8Array(16);
    new DataView(id.buffer).setUint32(0, i);
    table.register({ ...sender(0), clientId: id }, A, "a");
  }
  assertEquals(table.size, 99_999);
  assertEquals(table.register(sender(200), A, "a"), { kind: "error", code: ErrorCode.serverFull });
});

Deno.test("RoomTable finds a paired room's peers by token, and only a paired one", () => {
  const { table } = setup();
  table.register(sender(1), A, "a");
  const paired = table.register(receiver(2, "1"), B, "b");
  assert(paired.kind === "paired");
  assertEquals(table.pairedPeers(hex(paired.token)), [bytes(16, 1), bytes(16, 2)]);
  assertEquals(table.pairedPeers(hex(bytes(16, 0xee))), undefined);
});

Deno.test("RoomTable keeps a paired room past its linger while it is held, then frees it once", () => {
  const held = new Set<string>();
  const freed: string[] = [];
  const { clock, table } = setup({
    pairedLingerMs: 1000,
    isHeld: (key) => held.has(key),
    onFree: (key) => freed.push(key),
  });
  table.register(sender(1), A, "a");
  const paired = table.register(receiver(2, "1"), B, "b");
  assert(paired.kind === "paired");
  const key = hex(paired.token);
  held.add(key);
  clock.now = 5000;
  assertEquals(table.size, 1);
  assert(table.pairedPeers(key) !== undefined);
  held.delete(key);
  assertEquals(table.size, 0);
  assertEquals(table.pairedPeers(key), undefined);
  assertEquals(freed, [key]);
});

Deno.test("RoomTable passes each peer's NAT mapping to the other", () => {
  const { table } = setup();
  table.register({ ...sender(1), nat: "endpoint-dependent" }, A, "a");
  const forReceiver = table.register({ ...receiver(2, "1"), nat: "none" }, B, "b");
  const forSender = table.register(sender(1, "1"), A, "a");
  assert(forReceiver.kind === "paired" && forSender.kind === "paired");
  assertEquals([forReceiver.peer.nat, forSender.peer.nat], ["endpoint-dependent", "none"]);
});

Deno.test("RoomTable gives a sender whose room a restart lost the same nameplate again", () => {
  const { table } = setup();
  const poll = { ...sender(1, "42"), poll: true };
  // A fresh table is a restarted server: the poll learns the room is gone...
  assertEquals(table.register(poll, A, "a"), {
    kind: "error",
    code: ErrorCode.expired,
    nameplate: "42",
  });
  // ...and registering again (not a poll) takes the free nameplate back.
  assertEquals(table.register(sender(1, "42"), A, "a"), {
    kind: "waiting",
    nameplate: "42",
    observed: A,
  });
  assertEquals(table.register(receiver(2, "42"), B, "b").kind, "paired");
});

Deno.test("RoomTable does not give back a room that outlived maxWaitMs", () => {
  const { clock, table } = setup({ maxWaitMs: 60_000, idleTimeoutMs: 10_000 });
  table.register(sender(1, "42"), A, "a");
  for (let at = 5_000; at <= 60_000; at += 5_000) {
    clock.now = at;
    table.register({ ...sender(1, "42"), poll: true }, A, "a");
  }
  const expired = { kind: "error", code: ErrorCode.expired, nameplate: "42" };
  assertEquals(table.register(sender(1, "42"), A, "a"), expired);
  // Another sender may take the nameplate; the memory of the expiry fades after idleTimeoutMs.
  assertEquals(table.register(sender(3, "42"), C, "c").kind, "waiting");
  clock.now += 10_000;
  table.sweep();
  assertEquals(table.register(sender(1), A, "a").kind, "waiting");
});

/** A send registration on nameplate 1 that commits to `next` as its successor's client id. */
function committing(id: number, next: number): RegisterMessage {
  return { ...sender(id, "1"), successor: sha256(bytes(16, next)) };
}

function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(data).digest());
}

Deno.test("RoomTable opens a paired nameplate again only for the successor its sender committed to", () => {
  const freed: string[] = [];
  const { table } = setup({ onFree: (token) => freed.push(token) });
  table.register({ ...sender(1), successor: sha256(bytes(16, 3)) }, A, "a");
  const first = table.register(receiver(2, "1"), B, "b");
  assert(first.kind === "paired");
  // The receiver learned the sender's client id (peerId): it cannot take the nameplate over.
  for (const id of [1, 2, 5]) {
    assertEquals(table.register(sender(id, "1"), C, "c").kind, id === 1 ? "paired" : "error");
  }
  assertEquals(table.register(committing(3, 4), A, "a"), {
    kind: "waiting",
    nameplate: "1",
    observed: A,
  });
  assertEquals(freed, [hex(first.token)]);
  // A retransmission of that registration is answered by the new room, not freeing it again.
  assertEquals(table.register(committing(3, 4), A, "a"), {
    kind: "waiting",
    nameplate: "1",
    observed: A,
  });
  const second = table.register(receiver(6, "1"), C, "c");
  assert(second.kind === "paired");
  assertEquals(second.peer.id, bytes(16, 3));
  assertEquals(table.register(committing(3, 4), A, "a").kind, "paired");
  assertEquals(table.register(committing(4, 5), A, "a").kind, "waiting");
  assertEquals(freed.length, 2);
});

Deno.test("RoomTable does not reopen a nameplate that has not paired yet", () => {
  const { table } = setup();
  table.register({ ...sender(1), successor: sha256(bytes(16, 3)) }, A, "a");
  assertEquals(table.register(committing(3, 4), A, "a"), {
    kind: "error",
    code: ErrorCode.nameplateInUse,
    nameplate: "1",
  });
});

Deno.test("RoomTable frees each room when it expires, through churn of rooms left early", () => {
  const { clock, table } = setup({ maxRooms: 10_000, maxRoomsPerSource: 10_000 });
  const id = (n: number) => {
    const bytes = new Uint8Array(16);
    new DataView(bytes.buffer).setUint32(0, n);
    return bytes;
  };
  const register = (n: number) => table.register({ ...sender(1), clientId: id(n) }, A, "a");
  for (let n = 1; n <= 5000; n++) register(n);
  // Rooms left at once leave the sweep's entries behind (past twice the rooms held it starts
  // afresh); the rest must still expire on time.
  for (let n = 1; n <= 4000; n++) assert(table.leave(id(n), String(n)));
  assertEquals(table.size, 1000);
  clock.now = 5000;
  for (let n = 4001; n <= 4500; n++) register(n); // polls
  clock.now = 10_000; // idle timeout of the rooms not polled since 0
  assertEquals(table.size, 500);
  clock.now = 14_999;
  assertEquals(table.size, 500);
  clock.now = 15_000;
  assertEquals(table.size, 0);
  // The nameplates came back: a new sender gets the lowest.
  assertEquals(register(9999), { kind: "waiting", nameplate: "1", observed: A });
});
