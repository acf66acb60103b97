import { RelayTable } from "./_relay_sessions.ts";
import { ErrorCode } from "../wire/mod.ts";
import { addr, assert, assertEquals, bytes } from "../testing/mod.ts";

const A = addr("203.0.113.1", 1111);
const B = addr("198.51.100.2", 2222);
const C = addr("192.0.2.3", 3333);
const IDS: [Uint8Array, Uint8Array] = [bytes(16, 1), bytes(16, 2)];

function setup(limits: ConstructorParameters<typeof RelayTable>[0] = {}) {
  const clock = { now: 0 };
  const table = new RelayTable(limits, () => clock.now);
  return { clock, table };
}

function ready(table: RelayTable, key = "t") {
  assertEquals(table.hello(key, IDS, IDS[0], A), { kind: "waiting" });
  assertEquals(table.hello(key, IDS, IDS[1], B), {
    kind: "ready",
    notify: { id: IDS[0], addr: A },
  });
}

Deno.test("RelayTable pairs two hellos, tells the waiting peer once, and is idempotent", () => {
  const { table } = setup();
  ready(table);
  // Retransmits: ready, and no second notification.
  assertEquals(table.hello("t", IDS, IDS[0], A), { kind: "ready" });
  assertEquals(table.hello("t", IDS, IDS[1], B), { kind: "ready" });
  assertEquals(table.size, 1);
});

Deno.test("RelayTable forwards only between the two recorded addresses", () => {
  const { table } = setup();
  assertEquals(table.hello("t", IDS, IDS[0], A), { kind: "waiting" });
  assertEquals(table.forward(A.hostname, A.port, 100), undefined); // the peer is not known yet
  table.hello("t", IDS, IDS[1], B);
  assertEquals(table.forward(A.hostname, A.port, 100), B);
  assertEquals(table.forward(B.hostname, B.port, 100), A);
  assertEquals(table.forward(C.hostname, C.port, 100), undefined);
  assertEquals(table.forward(A.hostname, 9999, 100), undefined);
  assertEquals([table.relayedBytes, table.dropped], [200, 3]);
});

Deno.test("RelayTable refuses a client id that is not one of the room's peers", () => {
  const { table } = setup();
  assertEquals(table.hello("t", IDS, bytes(16, 3), A), {
    kind: "error",
    code: ErrorCode.relayUnknown,
  });
  assertEquals(table.size, 0);
});

Deno.test("RelayTable follows a peer to a new address and forgets the old one", () => {
  const { table } = setup();
  ready(table);
  assertEquals(table.hello("t", IDS, IDS[0], C), { kind: "ready" });
  assertEquals(table.forward(A.hostname, A.port, 10), undefined);
  assertEquals(table.forward(C.hostname, C.port, 10), B);
  assertEquals(table.forward(B.hostname, B.port, 10), C);
});

Deno.test("RelayTable moves an address that says hello for another session", () => {
  const { table } = setup();
  ready(table, "one");
  const other: [Uint8Array, Uint8Array] = [bytes(16, 5), bytes(16, 6)];
  assertEquals(table.hello("two", other, other[0], A), { kind: "waiting" });
  // A now belongs to session two: B's datagrams have nowhere to go.
  assertEquals(table.forward(B.hostname, B.port, 10), undefined);
  assertEquals(table.forward(A.hostname, A.port, 10), undefined);
});

Deno.test("RelayTable refuses new sessions beyond maxSessions until one ends", () => {
  const { clock, table } = setup({ maxSessions: 2, idleTimeoutMs: 1000 });
  table.hello("one", IDS, IDS[0], A);
  clock.now = 600;
  table.hello("two", IDS, IDS[0], B);
  assertEquals(table.hello("three", IDS, IDS[0], C), { kind: "error", code: ErrorCode.relayFull });
  clock.now = 1000; // "one" is idle now
  assertEquals(table.hello("three", IDS, IDS[0], C), { kind: "waiting" });
  assertEquals(table.size, 2);
});

Deno.test("RelayTable drops a burst over the rate instead of queueing it, then refills", () => {
  const { clock, table } = setup({ bytesPerSecond: 10_000, burstBytes: 3_000 });
  ready(table);
  const sent = Array.from({ length: 10 }, () => table.forward(A.hostname, A.port, 1000));
  assertEquals(sent.filter((to) => to !== undefined).length, 3);
  assertEquals(table.dropped, 7);
  clock.now = 100; // 1,000 bytes refilled
  assertEquals(table.forward(B.hostname, B.port, 1000), A);
  assertEquals(table.forward(B.hostname, B.port, 1000), undefined);
  clock.now = 10_000; // the bucket never holds more than the burst
  const later = Array.from({ length: 5 }, () => table.forward(A.hostname, A.port, 1000));
  assertEquals(later.filter((to) => to !== undefined).length, 3);
});

Deno.test("RelayTable ends a session at its byte limit, and a later hello learns it ended", () => {
  const { clock, table } = setup({ maxBytes: 2500, idleTimeoutMs: 1000 });
  ready(table);
  assertEquals(table.forward(A.hostname, A.port, 1000), B);
  assertEquals(table.forward(B.hostname, B.port, 1000), A);
  assertEquals(table.forward(A.hostname, A.port, 1000), undefined);
  assertEquals(table.forward(A.hostname, A.port, 10), undefined); // ended: nothing more
  assertEquals([table.relayedBytes, table.size], [2000, 0]);
  const capped = { code: ErrorCode.relayCapped, limit: 2500 };
  assertEquals(table.hello("t", IDS, IDS[0], A), { kind: "error", ...capped });
  // The room stays for the idle timeout, so that its peers can still ask why.
  assertEquals([table.alive("t"), table.capEnded("t")], [true, capped]);
  clock.now = 1000;
  assertEquals([table.alive("t"), table.capEnded("t")], [false, undefined]);
});

Deno.test("RelayTable ends an idle session; traffic and hellos keep it alive", () => {
  const { clock, table } = setup({ idleTimeoutMs: 1000 });
  ready(table);
  clock.now = 900;
  assertEquals(table.forward(A.hostname, A.port, 10), B);
  clock.now = 1800;
  table.hello("t", IDS, IDS[1], B);
  clock.now = 2700;
  assert(table.alive("t"));
  clock.now = 2800;
  assert(!table.alive("t"));
  assertEquals(table.forward(A.hostname, A.port, 10), undefined);
  assertEquals(table.size, 0);
  assertEquals(table.hello("t", IDS, IDS[0], A), { kind: "error", code: ErrorCode.relayEnded });
});

Deno.test("RelayTable.remove forgets a session, so its token can start over only with a new room", () => {
  const { table } = setup();
  ready(table);
  table.remove("t");
  assertEquals([table.size, table.alive("t")], [0, false]);
  assertEquals(table.forward(A.hostname, A.port, 10), undefined);
});

Deno.test("RelayTable rejects non-positive limits with RangeError", () => {
  for (const bad of [0, -1, NaN]) {
    let caught: unknown;
    try {
      new RelayTable({ maxBytes: bad }, () => 0);
    } catch (error) {
      caught = error;
    }
    assert(caught instanceof RangeError, `maxBytes ${bad}`);
  }
});

Deno.test("RelayTable caps neither rate nor bytes by default, and takes Infinity as no cap", () => {
  const { table } = setup();
  assertEquals([table.limits.bytesPerSecond, table.limits.maxBytes], [Infinity, Infinity]);
  ready(table);
  for (let i = 0; i < 1000; i++) assertEquals(table.forward(A.hostname, A.port, 1_000_000), B);
  assertEquals(table.dropped, 0);
  assertEquals(new RelayTable({ maxBytes: Infinity }, () => 0).limits.maxBytes, Infinity);
});

Deno.test("RelayTable's default burst is a tenth of a second of its rate, at least 64 KiB", () => {
  assertEquals(
    new RelayTable({ bytesPerSecond: 10_000_000 }, () => 0).limits.burstBytes,
    1_000_000,
  );
  assertEquals(new RelayTable({ bytesPerSecond: 1000 }, () => 0).limits.burstBytes, 65_536);
});
