/**
 * `deno task bench:latency [--runs N]`: where the time of a small transfer goes, through the CLI
 * on loopback with a local `serve`. For a 1 KiB file and for `send --text`, on each path (the LAN
 * over TLS/TCP, QUIC with `--transport quic`, the relay with `--relay-only`), N runs of: the
 * receiver started (`--timeout`, so it waits for its sender), the sender started at once, both
 * exited. Each side's phases come from the `t` of its `--json` events (ms since Deno's runtime
 * started in that process, some tens of ms after the process did: only their differences are
 * used); start, the first event's arrival and exit from this process's clock:
 *
 *   start → first event → paired → connected → done → exit
 *
 * Medians over the runs, in ms, per side, and the whole run (first start to both exited); then
 * each side's main-thread CPU over the same phases (Linux), which a loaded host inflates far less
 * than the wall times.
 * `--only lan|quic|relay` and `--file-only` run less.
 */
import { join } from "node:path";
import { arrivalMs, type CliEvent, mainCpuMs, spawnCli, stampMs } from "../scripts/cli_process.ts";
import { makeRandomFile } from "../scripts/files.ts";

const runsAt = Deno.args.indexOf("--runs");
const RUNS = runsAt >= 0 ? Number(Deno.args[runsAt + 1]) : 5;
const onlyAt = Deno.args.indexOf("--only");
const ONLY = onlyAt >= 0 ? Deno.args[onlyAt + 1] : undefined;
const PATHS = [
  { key: "lan", name: "LAN (TLS/TCP)", flags: [] },
  { key: "quic", name: "QUIC (--transport quic)", flags: ["--transport", "quic"] },
  { key: "relay", name: "relay (--relay-only)", flags: ["--relay-only"] },
].filter((path) => ONLY === undefined || path.key === ONLY);
const KINDS = Deno.args.includes("--file-only") ? ["1 KiB file"] : ["1 KiB file", "send --text"];
/** Each phase ends at the event named, and starts where the one before it ended. */
const PHASES = ["start→first", "→paired", "→connected", "→done", "→exit"];
const WIDTH = 12;

/** One side's phases of one run, ms (NaN: that event never came). */
interface SideTimes {
  phases: number[];
  total: number;
  /** Main-thread CPU over the phases up to `done`, ms (NaN where unknown). */
  cpu: number[];
  /** `path/transport` of its `connected` event. */
  link: string;
}

const dir = await Deno.makeTempDir({ prefix: "p2pft-latency-" });
const serve = spawnCli(["serve", "--host", "127.0.0.1", "--port", "0", "--json"]);
try {
  const { port } = await serve.next("listening", AbortSignal.timeout(30_000));
  const rendezvous = ["--rendezvous", `127.0.0.1:${port}`];
  const file = join(dir, "one-kib.bin");
  await makeRandomFile(file, 1024);
  console.log(`${RUNS} runs each, medians in ms; load ${Deno.loadavg().join(" ")}`);
  let nameplate = 100;
  for (const kind of KINDS) {
    for (const path of PATHS) {
      const sender: SideTimes[] = [];
      const receiver: SideTimes[] = [];
      const wholes: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        const code = `${nameplate++}-bench-code`;
        const out = await Deno.makeTempDir({ dir });
        const started = performance.now();
        const received = timeSide(
          ["receive", code, "--timeout", "30", "--yes", "--out", out, ...rendezvous],
          path.flags,
        );
        const sent = timeSide(
          ["send", ...(kind === "send --text" ? ["--text", "hello"] : [file]), "--code", code],
          [...rendezvous, ...path.flags],
        );
        const [s, r] = await Promise.all([sent, received]);
        wholes.push(performance.now() - started);
        sender.push(s);
        receiver.push(r);
      }
      console.log(`\n${kind}, ${path.name}: ${sender[0].link}`);
      console.log(["side", ...PHASES, "total"].map((cell) => cell.padStart(WIDTH)).join(""));
      for (const [side, times] of [["sender", sender], ["receiver", receiver]] as const) {
        const columns = PHASES.map((_, index) => median(times.map((one) => one.phases[index])));
        const cells = [...columns, median(times.map((one) => one.total))];
        const texts = [side, ...cells.map((ms) => ms.toFixed(0))];
        console.log(texts.map((text) => text.padStart(WIDTH)).join(""));
      }
      console.log(`both exited ${median(wholes).toFixed(0)} ms after the receiver started`);
      console.log("main-thread CPU, ms:");
      for (const [side, times] of [["sender", sender], ["receiver", receiver]] as const) {
        const columns = PHASES.slice(0, -1).map((_, index) =>
          median(times.map((one) => one.cpu[index]))
        );
        const texts = [side, ...columns.map((ms) => ms.toFixed(0))];
        console.log(texts.map((text) => text.padStart(WIDTH)).join(""));
      }
    }
  }
} finally {
  serve.kill();
  await serve.finished();
  await Deno.remove(dir, { recursive: true });
}

/** Runs one side (`args` then `--json` and `extra`) to its exit and reads its phases. */
async function timeSide(args: string[], extra: string[]): Promise<SideTimes> {
  const spawned = performance.now();
  const run = spawnCli([...args, "--json", ...extra], { cpu: true });
  const result = await run.finished();
  const exited = performance.now();
  if (result.code !== 0) {
    throw new Error(`${args[0]} exited with ${result.code}: ${result.stderr.trim()}`);
  }
  const find = (type: string) => result.events.find((event) => event.type === type);
  const first = result.events[0];
  const at = (event: CliEvent | undefined) => stampMs(event) ?? NaN;
  const done = find("done");
  const connected = find("connected");
  const cpuAt = [first, find("paired"), connected, done].map((event) => mainCpuMs(event) ?? NaN);
  return {
    phases: [
      (arrivalMs(first) ?? NaN) - spawned,
      at(find("paired")) - at(first),
      at(connected) - at(find("paired")),
      at(done) - at(connected),
      exited - (arrivalMs(done) ?? NaN),
    ],
    total: exited - spawned,
    cpu: cpuAt.map((ms, index) => ms - (index === 0 ? 0 : cpuAt[index - 1])),
    link: `${connected?.path}/${connected?.transport}`,
  };
}

function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
