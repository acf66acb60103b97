/**
 * A real `serve` process under a paced flood while a real send/receive CLI
 * pair on 127.0.0.1 pairs and completes a verified transfer: from 50 other
 * loopback hosts (127.0.0.2–127.0.0.51), and for 20 s from 64 sockets on the
 * honest peers' own 127.0.0.1. The mix: random junk, junk behind the
 * rendezvous header, registrations without a cookie, with a wrong one, and
 * replays of a valid one. Junk costs only its decode and unproven requests
 * get only a cookie, so neither spends a token of the address they came from:
 * the honest peers, sharing that address, must not notice.
 */
import assert from "node:assert/strict";
import { makeRandomFile, sha256File } from "../../scripts/files.ts";
import { flood, type FloodOptions, totalSent } from "./_flood.ts";
import { boundedTest } from "../bounded.ts";
import { listDir, world } from "../world.ts";

const SIZE = 8 * 1024 * 1024;
const RATE = 5_000;

interface Scenario {
  sockets: number;
  hostname?: string;
  durationMs: number;
  /** Stop the flood as soon as the honest pair is done (else it runs its whole duration). */
  stopWhenDone: boolean;
}

async function transferUnderFlood(signal: AbortSignal, scenario: Scenario): Promise<void> {
  await using w = await world(signal);
  const source = `${w.dir}/payload.bin`;
  await makeRandomFile(source, SIZE);
  const expected = await sha256File(source);
  const out = `${w.dir}/in`;
  await Deno.mkdir(out);
  const [hostname, port] = w.server.split(":");
  const stopFlood = new AbortController();
  let floodSent = 0;
  const started = Promise.withResolvers<void>();
  const options: FloodOptions = {
    sockets: scenario.sockets,
    hostname: scenario.hostname,
    ratePerSecond: RATE,
    durationMs: scenario.durationMs,
    // The honest sender gets the lowest free nameplate; the flood stays clear of it,
    // so a bogus receiver cannot take the honest room by chance (that is guessing, not flooding).
    nameplates: { min: 50_000, max: 99_999 },
    onStart: started.resolve,
    onSent: (total) => floodSent = total,
    signal: AbortSignal.any([signal, stopFlood.signal]),
  };
  const flooding = flood({ transport: "udp", hostname, port: Number(port) }, options);
  let honestStartedAt = 0;
  let honestDoneAt = 0;
  // Datagrams the flood had sent when the honest pair started, and when it was done.
  let sentBefore = 0;
  let sentByDone = 0;
  try {
    // A flood that fails before it starts shows its own error, not a hang.
    await Promise.race([started.promise, flooding]);
    honestStartedAt = performance.now();
    sentBefore = floodSent;
    const rendezvous = ["--rendezvous", w.server, "--no-local"];
    const sender = w.spawnCli(["send", source, ...rendezvous, "--timeout", "30", "--json"]);
    const { code } = await sender.next("code", signal);
    const receiver = w.spawnCli(
      ["receive", String(code), "--out", out, "--yes", ...rendezvous, "--json"],
    );
    const [sent, received] = await Promise.all([sender.finished(), receiver.finished()]);
    honestDoneAt = performance.now();
    sentByDone = floodSent;
    for (const [who, run] of [["sender", sent], ["receiver", received]] as const) {
      assert.equal(run.code, 0, `${who}: ${run.stderr}`);
      const done = run.events.find((event) => event.type === "done");
      assert.equal(done?.sha256, expected, who);
      assert.equal(done?.bytes, SIZE, who);
    }
  } finally {
    if (scenario.stopWhenDone || signal.aborted) stopFlood.abort();
  }
  const report = await flooding;
  assert.deepEqual(await listDir(out), ["payload.bin"]);
  assert.equal(await sha256File(`${out}/payload.bin`), expected);

  // The whole honest run happened under the flood, which kept to its budget.
  const sent = totalSent(report);
  const seconds = (report.stoppedAt - report.startedAt) / 1000;
  assert.ok(report.startedAt <= honestStartedAt && report.stoppedAt >= honestDoneAt);
  // Counts, not a rate (a loaded host sends slower): every flood socket sent during the honest run.
  const during = sentByDone - sentBefore;
  assert.ok(during >= scenario.sockets, `${during} flood datagrams during the honest run`);
  assert.ok(sent <= RATE * seconds + RATE * 0.05, `${sent} datagrams in ${seconds} s`);
  assert.equal(report.sendErrors, 0);
  // The server did answer the flood: cookies, to whoever asked without a valid one.
  assert.ok(report.replies > 0, "the server answered none of the flood's registrations");

  // The server survived it all and says what it saw (stats on SIGTERM).
  w.serve.kill("SIGTERM");
  const { stats } = await w.serve.next("stopped", signal) as {
    stats: Record<string, number>;
    type: string;
  };
  const why = JSON.stringify(stats);
  assert.equal(stats.errors, 0, why);
  assert.ok(stats.pairings >= 1, why);
  // The server read the flood (a loaded host drops some of it in the kernel: no ratio).
  assert.ok(stats.malformed > 0, why);
  // Nothing the flood sent was charged to a source: no honest request was rate-limited,
  // and the flood got cookies, never rooms.
  assert.equal(stats.rateLimited, 0, why);
  assert.ok(stats.cookies > 0, why);
  assert.ok(stats.udpReplyBytes <= stats.udpRequestBytes, why);
  console.log(
    `flood from ${scenario.hostname ?? "other hosts"}: ${sent} datagrams in ${
      seconds.toFixed(1)
    } s (${JSON.stringify(report.sent)}), ${report.replies} answered; honest transfer took ${
      ((honestDoneAt - honestStartedAt) / 1000).toFixed(1)
    } s; server stats ${why}`,
  );
}

boundedTest(
  "a verified transfer completes while 50 other hosts flood the rendezvous server",
  (signal) => transferUnderFlood(signal, { sockets: 50, durationMs: 10_000, stopWhenDone: true }),
);

boundedTest(
  "a verified transfer completes while 64 sockets on the peers' own IP flood for 20 s",
  (signal) =>
    transferUnderFlood(signal, {
      sockets: 64,
      hostname: "127.0.0.1",
      durationMs: 20_000,
      stopWhenDone: false,
    }),
  { timeoutMs: 90_000 },
);
