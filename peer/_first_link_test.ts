import assert from "node:assert/strict";
import type { LinkEnd, PeerLink } from "./link/mod.ts";
import { LinkRace } from "./_first_link.ts";

function fakeLink(): PeerLink & { ends: LinkEnd[] } {
  const ends: LinkEnd[] = [];
  return {
    ends,
    transport: "tcp",
    openStream: () => Promise.reject(new Error("unused")),
    acceptStream: () => Promise.reject(new Error("unused")),
    close: (end) => {
      ends.push(end);
      return Promise.resolve();
    },
    closed: Promise.resolve(undefined),
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
}

Deno.test("LinkRace takes the first link, stops the others and closes one that comes late", async () => {
  const race = new LinkRace();
  const first = fakeLink();
  const late = fakeLink();
  const slow = Promise.withResolvers<PeerLink>();
  race.add({ kind: "lan-tls" }, Promise.resolve(first));
  race.add({ kind: "quic" }, slow.promise);
  const won = await race.first();
  assert.equal(won.link, first);
  assert.equal(won.kind, "lan-tls");
  assert.ok(race.signal.aborted, "the other attempts were not told to stop");
  slow.resolve(late);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(late.ends.length, 1);
  assert.equal(first.ends.length, 0);
});

Deno.test("LinkRace rejects with the last attempt's error when every attempt fails", async () => {
  const race = new LinkRace();
  race.add({ kind: "lan-tls" }, Promise.reject(new Error("refused")));
  race.add({ kind: "quic" }, Promise.reject(new Error("QUIC timed out")));
  await assert.rejects(race.first(), /QUIC timed out/);
});

Deno.test("LinkRace stops its attempts when the caller's signal aborts", () => {
  const caller = new AbortController();
  const race = new LinkRace(caller.signal);
  caller.abort();
  assert.ok(race.signal.aborted);
});
