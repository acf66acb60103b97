import assert from "node:assert/strict";
import { racePairing, type Way } from "./_race_pairing.ts";

/** A way that settles when the test says so, or rejects with the signal's reason on abort. */
function controlled<T>() {
  const settle = Promise.withResolvers<T>();
  let aborted = false;
  let seen: (() => void) | undefined;
  const run = (signal: AbortSignal, onSeen?: () => void) => {
    seen = onSeen;
    signal.addEventListener("abort", () => {
      aborted = true;
      settle.reject(signal.reason);
    }, { once: true });
    return settle.promise;
  };
  return {
    run,
    resolve: (value: T) => settle.resolve(value),
    reject: (error: unknown) => settle.reject(error),
    see: () => seen!(),
    get aborted() {
      return aborted;
    },
  };
}

Deno.test("racePairing takes the local pairing that comes first and stops the server", async () => {
  const server = controlled<string>();
  const local = controlled<string>();
  const race = racePairing({ server: server.run, local: local.run, claimWaitMs: 10_000 });
  local.resolve("lan");
  assert.deepEqual(await race, { found: "local", pairing: "lan" });
  assert.ok(server.aborted);
});

Deno.test("racePairing takes the server when the receiver never heard the sender on the LAN", async () => {
  const server = controlled<string>();
  const local = controlled<string>();
  const race = racePairing({ server: server.run, local: local.run, claimWaitMs: 10_000 });
  server.resolve("room");
  assert.deepEqual(await race, { found: "server", pairing: "room" });
  assert.ok(local.aborted, "local discovery is stopped at once");
});

Deno.test("racePairing lets a receiver that heard the sender finish its claim after the server paired it", async () => {
  const server = controlled<string>();
  const local = controlled<string>();
  const race = racePairing({ server: server.run, local: local.run, claimWaitMs: 10_000 });
  local.see();
  server.resolve("room");
  // The claim's answer arrives after the server's pairing: the LAN still wins.
  await Promise.resolve();
  local.resolve("lan");
  assert.deepEqual(await race, { found: "local", pairing: "lan" });
  assert.ok(!local.aborted);
  assert.ok(server.aborted === false, "the server had already answered");
});

Deno.test("racePairing gives up an unanswered claim after claimWaitMs and takes the server", async () => {
  const server = controlled<string>();
  const local = controlled<string>();
  const race = racePairing({ server: server.run, local: local.run, claimWaitMs: 20 });
  local.see();
  server.resolve("room");
  assert.deepEqual(await race, { found: "server", pairing: "room" });
  assert.ok(local.aborted);
});

Deno.test("racePairing keeps a local pairing that completed while it was being stopped", async () => {
  // A sender whose announcement accepted a claim just before it was stopped.
  const server = controlled<string>();
  const race = racePairing<string, string>({
    server: server.run,
    local: (signal) =>
      new Promise((resolve) => signal.addEventListener("abort", () => resolve("lan"))),
    claimWaitMs: 10_000,
  });
  server.resolve("room");
  assert.deepEqual(await race, { found: "local", pairing: "lan" });
});

Deno.test("racePairing reports a failed way and goes on with the other", async () => {
  const server = controlled<string>();
  const local = controlled<string>();
  const failed: Array<[Way, unknown]> = [];
  const race = racePairing({
    server: server.run,
    local: local.run,
    claimWaitMs: 10_000,
    onFailed: (way, error) => failed.push([way, error]),
  });
  const joinError = new Error("Cannot join the multicast DNS group");
  local.reject(joinError);
  await new Promise((resolve) => setTimeout(resolve, 0));
  server.resolve("room");
  assert.deepEqual(await race, { found: "server", pairing: "room" });
  assert.deepEqual(failed, [["local", joinError]]);
});

Deno.test("racePairing throws the last error when both ways fail, reporting only the first", async () => {
  const server = controlled<string>();
  const local = controlled<string>();
  const failed: Way[] = [];
  const race = racePairing({
    server: server.run,
    local: local.run,
    claimWaitMs: 10_000,
    onFailed: (way) => failed.push(way),
  });
  server.reject(new Error("No answer from rendezvous server"));
  await new Promise((resolve) => setTimeout(resolve, 0));
  local.reject(new Error("No sender with nameplate 4242 answered"));
  await assert.rejects(race, /No sender with nameplate 4242 answered/);
  assert.deepEqual(failed, ["server"]);
});

Deno.test("racePairing with one way throws its error without reporting it", async () => {
  const local = controlled<string>();
  let reported = false;
  const race = racePairing({
    local: local.run,
    claimWaitMs: 10_000,
    onFailed: () => reported = true,
  });
  local.reject(new Error("No sender"));
  await assert.rejects(race, /No sender/);
  assert.equal(reported, false);
});

Deno.test("racePairing rejects with the caller's reason on abort and reports nothing", async () => {
  const server = controlled<string>();
  const local = controlled<string>();
  const stop = new AbortController();
  let reported = false;
  const race = racePairing({
    server: server.run,
    local: local.run,
    claimWaitMs: 10_000,
    onFailed: () => reported = true,
    signal: stop.signal,
  });
  stop.abort(new Error("Interrupted"));
  await assert.rejects(race, /Interrupted/);
  assert.ok(server.aborted && local.aborted);
  assert.equal(reported, false);
});

Deno.test("racePairing needs at least one way", async () => {
  await assert.rejects(racePairing({ claimWaitMs: 1 }), TypeError);
});

Deno.test("racePairing: a failure that ends the finding stops the other way and is thrown", async () => {
  const server = controlled<string>();
  const local = controlled<string>();
  const failed: Way[] = [];
  const taken = new Error("nameplate 7 is in use");
  const race = racePairing({
    server: server.run,
    local: local.run,
    claimWaitMs: 10_000,
    ends: (way, error) => way === "server" && error === taken,
    onFailed: (way) => failed.push(way),
  });
  server.reject(taken);
  await assert.rejects(race, (error) => error === taken);
  assert.ok(local.aborted, "local discovery is stopped");
  assert.deepEqual(failed, [], "not reported as one way failing while the other goes on");
});
