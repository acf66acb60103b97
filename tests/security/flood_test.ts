/**
 * A real `serve` process under a paced flood (≤ 5,000 datagrams/s from 50
 * sockets on 127.0.0.2–127.0.0.51, random junk and well-formed bogus
 * registrations) while a real send/receive CLI pair on 127.0.0.1 pairs and
 * completes a verified transfer. The server rate-limits per source IP, so the
 * flood, coming from other loopback addresses, must not starve the honest
 * peers; the flood stops as soon as they are done (10 s at most).
 */
import assert from "node:assert/strict";
import { makeRandomFile, sha256File } from "../../scripts/files.ts";
import { flood } from "./_flood.ts";
import { boundedTest } from "../bounded.ts";
import { listDir, world } from "../world.ts";

const SIZE = 8 * 1024 * 1024;
const RATE = 5_000;
const FLOOD_MS = 10_000;

boundedTest(
  "a verified transfer completes while 50 other hosts flood the rendezvous server",
  async (signal) => {
    await using w = await world(signal);
    const source = `${w.dir}/payload.bin`;
    await makeRandomFile(source, SIZE);
    const expected = await sha256File(source);
    const out = `${w.dir}/in`;
    await Deno.mkdir(out);
    const [hostname, port] = w.server.split(":");
    const stopFlood = new AbortController();
    const flooding = flood({ transport: "udp", hostname, port: Number(port) }, {
      sockets: 50,
      ratePerSecond: RATE,
      durationMs: FLOOD_MS,
      // The honest sender gets the lowest free nameplate; the flood stays clear of it,
      // so a bogus receiver cannot take the honest room by chance (that is guessing, not flooding).
      nameplates: { min: 50_000, max: 99_999 },
      signal: AbortSignal.any([signal, stopFlood.signal]),
    });
    let honestStartedAt = 0;
    let honestDoneAt = 0;
    try {
      honestStartedAt = performance.now();
      const rendezvous = ["--rendezvous", w.server];
      const sender = w.spawnCli(["send", source, ...rendezvous, "--timeout", "30", "--json"]);
      const { code } = await sender.next("code", signal);
      const receiver = w.spawnCli(
        ["receive", String(code), "--out", out, "--yes", ...rendezvous, "--json"],
      );
      const [sent, received] = await Promise.all([sender.finished(), receiver.finished()]);
      honestDoneAt = performance.now();
      for (const [who, run] of [["sender", sent], ["receiver", received]] as const) {
        assert.equal(run.code, 0, `${who}: ${run.stderr}`);
        const done = run.events.find((event) => event.type === "done");
        assert.equal(done?.sha256, expected, who);
        assert.equal(done?.bytes, SIZE, who);
      }
    } finally {
      stopFlood.abort();
    }
    const report = await flooding;
    assert.deepEqual(await listDir(out), ["payload.bin"]);
    assert.equal(await sha256File(`${out}/payload.bin`), expected);

    // The whole honest run happened under the flood, which kept to its budget.
    const sent = report.sent.random + report.sent.magic + report.sent.register;
    const seconds = (report.stoppedAt - report.startedAt) / 1000;
    assert.ok(report.startedAt <= honestStartedAt && report.stoppedAt >= honestDoneAt);
    assert.ok(sent >= RATE * (honestDoneAt - honestStartedAt) / 1000 * 0.5, `only ${sent} sent`);
    assert.ok(sent <= RATE * seconds + RATE * 0.05, `${sent} datagrams in ${seconds} s`);
    assert.equal(report.sendErrors, 0);
    // The server did real work for the flood: it answered bogus registrations.
    assert.ok(report.replies > 0, "the server answered none of the bogus registrations");

    // The server survived it all and says what it saw (stats on SIGTERM).
    w.serve.kill("SIGTERM");
    const { stats } = await w.serve.next("stopped", signal) as {
      stats: Record<string, number>;
      type: string;
    };
    assert.equal(stats.errors, 0, JSON.stringify(stats));
    assert.ok(stats.pairings >= 1, JSON.stringify(stats));
    assert.ok(stats.malformed >= report.sent.magic * 0.5, JSON.stringify(stats));
    assert.ok(stats.received >= sent * 0.5, JSON.stringify(stats));
    console.log(
      `flood: ${sent} datagrams in ${seconds.toFixed(1)} s (${JSON.stringify(report.sent)}), ` +
        `${report.replies} answered; honest transfer took ${
          ((honestDoneAt - honestStartedAt) / 1000).toFixed(1)
        } s; server stats ${JSON.stringify(stats)}`,
    );
  },
);
