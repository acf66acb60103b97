/**
 * Issue #21, point 5: idle TCP connections must not lock honest users out of
 * TCP rendezvous or the TCP relay. A real `serve` process is held by a child
 * that keeps 2,000 silent connections open from 40 loopback addresses (50
 * each: under the per-source cap of 80, over the total of 1,024, so only the
 * server's admission stands between them and the honest peers), opening each
 * again one second after the server drops it. Meanwhile an honest `--tcp`
 * transfer and a `--relay-only` transfer complete through the real CLI.
 *
 * Sized to the defaults it tests (1,024 connections); the holder needs about
 * 2,000 descriptors and the server about 1,100, well under this host's
 * `ulimit -n` of 20,000 (checked below, so a smaller limit says so).
 */
import assert from "node:assert/strict";
import { makeRandomFile, sha256File } from "../../scripts/files.ts";
import { boundedTest } from "../bounded.ts";
import { assertSucceeded, world } from "../world.ts";

const HELD = 2_000;
const ADDRESSES = 40;
const REOPEN_MS = 1_000;
const SIZE = 1024 * 1024 + 7;

async function openFileLimit(): Promise<number> {
  const { stdout } = await new Deno.Command("sh", { args: ["-c", "ulimit -n"] }).output();
  const text = new TextDecoder().decode(stdout).trim();
  return text === "unlimited" ? Infinity : Number(text);
}

boundedTest(
  "2,000 idle TCP connections from 40 addresses lock out neither --tcp nor --relay-only",
  async (signal) => {
    assert((await openFileLimit()) >= HELD + 200, "this test needs ulimit -n of at least 2,200");
    await using w = await world(signal);
    const [host, port] = w.server.split(":");
    const holder = w.spawnScript(new URL("./tcp_idle_holder.ts", import.meta.url), [
      host,
      port,
      String(HELD),
      String(ADDRESSES),
      String(REOPEN_MS),
    ]);
    await holder.next("holding", signal);
    const source = `${w.dir}/data.bin`;
    await makeRandomFile(source, SIZE);
    const expected = await sha256File(source);
    await Deno.mkdir(`${w.dir}/in`);
    for (const flags of [["--tcp"], ["--relay-only"]]) {
      const { sent, received } = await w.transfer([source], { both: flags, signal });
      assertSucceeded(sent, received);
      assert.equal(await sha256File(`${w.dir}/in/data.bin`), expected, flags[0]);
      await Deno.remove(`${w.dir}/in/data.bin`);
      const connected = received.events.find((event) => event.type === "connected");
      if (flags[0] === "--relay-only") assert.equal(connected?.path, "relay", flags[0]);
    }
    // The server made room by dropping the holder's connections (which the holder opens again a
    // second later: on a quiet host both transfers may be done before the first reopen).
    const stats = holder.events.findLast((event) => event.type === "stats");
    assert(Number(stats?.dropped) > 0, JSON.stringify(stats));
    w.serve.kill("SIGTERM");
    const server = (await w.serve.next("stopped", signal)).stats as Record<string, number>;
    assert(server.tcpEvicted > 0, JSON.stringify(server));
    console.log(
      `holder: ${
        JSON.stringify(stats)
      }; server: ${server.tcpEvicted} evicted, ${server.tcpRefused} refused`,
    );
  },
  { timeoutMs: 120_000 },
);
