/**
 * Several `serve` instances sharing rooms through one Redis (`--store`),
 * through the real CLI: peers that reached different instances pair and
 * transfer, the relay is the sender's instance's, and a sender whose instance
 * dies re-registers at the next one (`--rendezvous a,b`).
 */
import assert from "node:assert/strict";
import { boundedTest } from "./bounded.ts";
import { type CliRun, spawnCli } from "../scripts/cli_process.ts";
import { makeRandomFile, sha256File } from "../scripts/files.ts";
import { REDIS_SKIP, TestRedis } from "../scripts/redis_process.ts";

interface Cluster extends AsyncDisposable {
  dir: string;
  /** The instances' `HOST:PORT`, in start order. */
  servers: string[];
  /** Their Prometheus metrics URLs. */
  metrics: string[];
  serves: CliRun[];
  spawnCli(args: string[]): CliRun;
}

/** A Redis, `count` instances on it (127.0.0.1, free ports), and a temp dir; all gone on dispose. */
async function cluster(count: number, signal: AbortSignal): Promise<Cluster> {
  const dir = await Deno.makeTempDir({ prefix: "p2pft-scale-" });
  const runs: CliRun[] = [];
  const track = (run: CliRun) => (runs.push(run), run);
  const killAll = () => runs.forEach((run) => run.kill("SIGKILL"));
  signal.addEventListener("abort", killAll, { once: true });
  const redis = await TestRedis.start();
  const dispose = async () => {
    signal.removeEventListener("abort", killAll);
    killAll();
    await Promise.all(runs.map((run) => run.finished()));
    await redis.stop();
    await Deno.remove(dir, { recursive: true });
  };
  try {
    const serves = Array.from(
      { length: count },
      () =>
        track(spawnCli([
          "serve",
          "--host",
          "127.0.0.1",
          "--port",
          "0",
          "--store",
          redis.url,
          "--metrics",
          "127.0.0.1:0",
          "--json",
        ])),
    );
    const ready = AbortSignal.any([signal, AbortSignal.timeout(20_000)]);
    const listening = await Promise.all(serves.map((serve) => serve.next("listening", ready)));
    for (const event of listening) assert.equal(event.store, `${redis.url}/0`);
    return {
      dir,
      servers: listening.map((event) => `127.0.0.1:${event.port}`),
      metrics: listening.map((event) => String(event.metrics)),
      serves,
      spawnCli: (args) => track(spawnCli(args, { cwd: dir })),
      [Symbol.asyncDispose]: dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** Stops an instance with SIGTERM and returns the stats of its `stopped` event. */
async function stopStats(serve: CliRun): Promise<Record<string, number>> {
  serve.kill("SIGTERM");
  const { code, events, stderr } = await serve.finished();
  assert.equal(code, 0, stderr);
  return events.find((event) => event.type === "stopped")!.stats as Record<string, number>;
}

function scaleTest(name: string, fn: (signal: AbortSignal) => Promise<void>) {
  boundedTest(name + REDIS_SKIP.note, fn, { timeoutMs: 90_000, ignore: REDIS_SKIP.ignore });
}

async function transfer(
  c: Cluster,
  senderArgs: string[],
  receiverArgs: string[],
  onCode?: (sender: CliRun) => Promise<void>,
) {
  const source = `${c.dir}/file.bin`;
  await makeRandomFile(source, 3 * 1024 * 1024);
  const expected = await sha256File(source);
  await Deno.remove(`${c.dir}/in`, { recursive: true }).catch(() => {});
  await Deno.mkdir(`${c.dir}/in`);
  const sender = c.spawnCli(["send", source, ...senderArgs, "--no-local", "--json"]);
  const { code } = await sender.next("code");
  await onCode?.(sender);
  const receiver = c.spawnCli(
    [
      "receive",
      String(code),
      "--out",
      `${c.dir}/in`,
      "--yes",
      ...receiverArgs,
      "--no-local",
      "--json",
    ],
  );
  const [sent, received] = await Promise.all([sender.finished(), receiver.finished()]);
  assert.equal(sent.code, 0, sent.stderr);
  assert.equal(received.code, 0, received.stderr);
  assert.equal(await sha256File(`${c.dir}/in/file.bin`), expected);
  return { sent, received };
}

scaleTest(
  "a sender at one instance and a receiver at another pair and transfer",
  async (signal) => {
    await using c = await cluster(2, signal);
    const { received } = await transfer(c, ["--rendezvous", c.servers[0]], [
      "--rendezvous",
      c.servers[1],
    ]);
    assert.ok(received.events.some((event) => event.type === "paired"));
    const [textA, textB] = await Promise.all(
      c.metrics.map(async (url) => await (await fetch(url)).text()),
    );
    assert.match(textB, /^p2pft_pairings_total 1$/m);
    assert.match(textA, /^p2pft_pairings_total 0$/m);
    assert.match(textA, /^p2pft_rooms 1$/m, "the paired room lingers, seen from either instance");
    assert.match(textB, /^p2pft_drops_total\{reason="store_unavailable"\} 0$/m);
    const latencyCount = Number(textA.match(/^p2pft_store_latency_seconds_count (\d+)$/m)?.[1]);
    assert.ok(latencyCount >= 2, textA);
    const [a, b] = await Promise.all(c.serves.map(stopStats));
    assert.equal(a.pairings + b.pairings, 1);
    assert.equal(b.pairings, 1, "the receiver's instance paired the room");
  },
);

scaleTest(
  "--relay-only across instances relays through the sender's instance only",
  async (signal) => {
    await using c = await cluster(2, signal);
    const { sent, received } = await transfer(
      c,
      ["--rendezvous", c.servers[0], "--relay-only"],
      ["--rendezvous", c.servers[1], "--relay-only"],
    );
    for (const run of [sent, received]) {
      assert.equal(run.events.find((event) => event.type === "done")!.path, "relay");
    }
    const [a, b] = await Promise.all(c.serves.map(stopStats));
    assert.ok(a.relayedBytes + a.tcpRelayedBytes > 3 * 1024 * 1024, JSON.stringify(a));
    assert.equal(b.relayedBytes + b.tcpRelayedBytes, 0, JSON.stringify(b));
  },
);

scaleTest(
  "kill -9 of the sender's instance while it waits: it re-registers at the other and the file arrives",
  async (signal) => {
    await using c = await cluster(2, signal);
    const both = ["--rendezvous", c.servers.join(",")];
    await transfer(c, both, both, async () => {
      // The sender holds a room at the first instance; that instance dies without a word.
      c.serves[0].kill("SIGKILL");
      await c.serves[0].finished();
    });
    const b = await stopStats(c.serves[1]);
    assert.equal(b.pairings, 1);
  },
);

boundedTest(
  "serve --store refuses a bad URL and a Redis that refuses connections at once, clearly",
  async () => {
    const [bad, unreachable] = await Promise.all([
      spawnCli(["serve", "--host", "127.0.0.1", "--port", "0", "--store", "http://x"]).finished(),
      spawnCli(["serve", "--host", "127.0.0.1", "--port", "0", "--store", "redis://127.0.0.1:1"])
        .finished(),
    ]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'error: Invalid store "http://x": expected redis://HOST:PORT[/DB]\n');
    assert.equal(unreachable.code, 1);
    assert.equal(
      unreachable.stderr,
      "error: Cannot connect to the room store redis://127.0.0.1:1/0: connect ECONNREFUSED 127.0.0.1:1; " +
        "start Redis there or fix --store (without it, rooms are kept in memory)\n",
    );
  },
  { timeoutMs: 20_000 },
);

scaleTest(
  "a --code works again at once after a finished transfer, at either instance",
  async (signal) => {
    await using c = await cluster(2, signal);
    const code = ["--code", "97-service-scan"];
    for (const [from, to] of [[0, 1], [1, 0], [0, 0]]) {
      await transfer(c, ["--rendezvous", c.servers[from], ...code], [
        "--rendezvous",
        c.servers[to],
      ]);
    }
  },
);
