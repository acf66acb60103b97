/**
 * `deno task bench:wan`: goodput over an emulated WAN in the network lab
 * (root only), one file through the full p2pft CLI and, in the same run, one
 * TCP stream (iperf3) over the same path, with the host's congestion control
 * (BBR here) and with CUBIC (what most users' machines run); each as a
 * fraction of the link. Two paths, each at 0 % and 1 % loss: 100 ms RTT at
 * 100 Mbit/s, and 300 ms RTT at 200 Mbit/s (Europe to Australia).
 *
 * p2pft's figure is the receiver's `done` seconds: from the accepted offer to
 * DONE (the PLAN/START round trip, start-up, data, fsync and publish), not
 * pairing, punching, the QUIC handshakes or the PAKE (transfer/PROTOCOL.md,
 * "How many streams and lanes"). Where p2pft's datagrams were lost, counted
 * during its run: "rx drops", datagrams the receiving host's UDP sockets
 * dropped for a full receive buffer (Deno drives QUIC on the JS thread, and
 * the socket's 208 kB hold ~8 ms at 200 Mbit/s: on a busy host these are what
 * the numbers sag by), and "queue drops", packets the bottleneck's queue (the
 * sender's link, 100 ms of it) dropped. The load average is printed before
 * and after.
 *
 * `--rt` runs the lab's delay lines and the measured programs (p2pft's two
 * peers, both iperf3 ends) at real-time priority (SCHED_RR), so that a host
 * shared with other work neither stalls the emulated path nor starves the
 * receivers: it measures the path and the transport, not the host's load.
 *
 * `--against DIR` runs another checkout's CLI (DIR/main.ts: its server and
 * both peers) right after this one's, in the same lab, for an A/B in one run;
 * `--reps N` runs each case's transfers N times, in turns (the load moves
 * each figure by a few hundredths: repeat a case before believing a difference).
 *
 *   deno task bench:wan [--mib 256] [--only 100|300] [--rt] [--against DIR] [--reps N]
 */
import { spawnJsonLines } from "../scripts/cli_process.ts";
import { makeRandomFile } from "../scripts/files.ts";
import { createLab, labAvailable } from "../tests/lab/mod.ts";

const argument = (name: string, fallback: number) => {
  const index = Deno.args.indexOf(name);
  return index >= 0 ? Number(Deno.args[index + 1]) : fallback;
};
const MIB = argument("--mib", 256);
const ONLY_RTT = argument("--only", 0);
const PATHS = [
  { rttMs: 100, rateMbit: 100 },
  { rttMs: 300, rateMbit: 200 },
].filter((path) => ONLY_RTT === 0 || path.rttMs === ONLY_RTT);
const PORT = 9000;
/** With `--rt`: commands run at this SCHED_RR priority, the delay lines above them (the network). */
const REALTIME = Deno.args.includes("--rt");
const RT_PROGRAM = ["chrt", "-r", "10"];
const RT_DELAY_LINE = "20";
const realtime = (command: string[]) => REALTIME ? [...RT_PROGRAM, ...command] : command;
/** TCP runs for a fixed time: CUBIC at 1 % loss would need most of an hour for the file. */
const TCP_SECONDS = 20;
const REPS = argument("--reps", 1);
/** The builds to measure, in turns: this checkout's CLI, and `--against`'s if given. */
const BUILDS = [
  { name: "p2pft", main: new URL("../main.ts", import.meta.url).pathname },
  ...againstBuild(),
];

function againstBuild(): Array<{ name: string; main: string }> {
  const index = Deno.args.indexOf("--against");
  if (index < 0) return [];
  return [{ name: "against", main: `${Deno.args[index + 1]}/main.ts` }];
}

const available = await labAvailable();
if (!available.ok) {
  console.error(`bench:wan needs the network lab: ${available.reason}`);
  Deno.exit(1);
}
const tcpCongestion = (await Deno.readTextFile("/proc/sys/net/ipv4/tcp_congestion_control")).trim();
const load = async () =>
  (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
console.log(
  `load average before: ${await load()} (${navigator.hardwareConcurrency} cores)${
    REALTIME ? "; delay lines and measured programs at real-time priority" : ""
  }`,
);
const dir = await Deno.makeTempDir({ prefix: "p2pft-wan-" });
const rows: Array<Record<string, string | number>> = [];
try {
  const source = `${dir}/payload.bin`;
  await makeRandomFile(source, MIB * 1024 * 1024);
  for (const { rttMs, rateMbit } of PATHS) {
    for (const lossPercent of [0, 1]) {
      // Host A has a public address (so iperf3 can reach it too); host B is behind a NAT.
      // Each public link gets half the one-way delay and half the loss: the peers cross two.
      await using lab = await createLab({
        natA: "none",
        natB: "endpoint-independent",
        delayMs: rttMs / 4,
        lossPercent: lossPercent / 2,
        rateMbit,
      });
      if (REALTIME) await realtimeDelayLines(lab);
      const ofLink = (mbit: number) => (mbit / rateMbit).toFixed(2);
      const runs = new Map(BUILDS.map(({ name }) => [name, [] as Run[]]));
      for (let rep = 0; rep < REPS; rep++) {
        for (const build of BUILDS) {
          runs.get(build.name)!.push(await measured(lab, source, build.main));
        }
      }
      const p2pft = runs.get("p2pft")![0].mbit;
      const tcp = await tcpGoodput(lab, tcpCongestion);
      const cubic = await tcpGoodput(lab, "cubic");
      const figures = (name: string, pick: (run: Run) => string | number) =>
        runs.get(name)!.map(pick).join(" ");
      rows.push({
        "RTT ms": rttMs,
        "loss %": lossPercent,
        "link Mbit/s": rateMbit,
        "p2pft Mbit/s": figures("p2pft", (run) => run.mbit.toFixed(1)),
        "p2pft / link": figures("p2pft", (run) => ofLink(run.mbit)),
        "rx drops": figures("p2pft", (run) => run.rxDrops),
        "queue drops": figures("p2pft", (run) => run.queueDrops),
        ...(runs.has("against")
          ? {
            "against / link": figures("against", (run) => ofLink(run.mbit)),
            "against queue drops": figures("against", (run) => run.queueDrops),
          }
          : {}),
        [`TCP ${tcpCongestion} Mbit/s`]: tcp.toFixed(1),
        [`TCP ${tcpCongestion} / link`]: ofLink(tcp),
        "TCP cubic Mbit/s": cubic.toFixed(1),
        "TCP cubic / link": ofLink(cubic),
        [`p2pft / TCP ${tcpCongestion}`]: (p2pft / tcp).toFixed(2),
      });
      console.table(rows.slice(-1));
    }
  }
  console.log(
    `${MIB} MiB through p2pft; TCP for ${TCP_SECONDS} s; load average after: ${await load()}`,
  );
  console.table(rows);
} finally {
  await Deno.remove(dir, { recursive: true });
}

interface Run {
  mbit: number;
  /** Datagrams the receiving host's UDP sockets dropped, and the bottleneck's queue, in the run. */
  rxDrops: number;
  queueDrops: number;
}

/** One transfer with the CLI at `main`, and where its datagrams were lost meanwhile. */
async function measured(
  lab: Awaited<ReturnType<typeof createLab>>,
  source: string,
  main: string,
): Promise<Run> {
  const rxBefore = await udpReceiveDrops(lab, lab.hostB.ns);
  const queueBefore = await queueDrops(lab, lab.routerA.ns);
  const mbit = await p2pftGoodput(lab, source, main);
  return {
    mbit,
    rxDrops: await udpReceiveDrops(lab, lab.hostB.ns) - rxBefore,
    queueDrops: await queueDrops(lab, lab.routerA.ns) - queueBefore,
  };
}

async function p2pftGoodput(
  lab: Awaited<ReturnType<typeof createLab>>,
  source: string,
  main: string,
): Promise<number> {
  const spawnCli = (args: string[], options: { wrapper: string[]; cwd: string }) =>
    spawnJsonLines([Deno.execPath(), "run", "-A", main, ...args], options);
  const wrap = (ns: string) => ({ wrapper: ["ip", "netns", "exec", ns], cwd: dir });
  const peer = (ns: string) => ({ ...wrap(ns), wrapper: realtime(wrap(ns).wrapper) });
  const server = spawnCli(
    ["serve", "--host", "0.0.0.0", "--port", String(PORT), "--json"],
    wrap(lab.rendezvous.ns),
  );
  const out = await Deno.makeTempDir({ dir, prefix: "in-" });
  try {
    await server.next("listening");
    const rendezvous = ["--rendezvous", `${lab.rendezvous.ip}:${PORT}`, "--json"];
    const sender = spawnCli(["send", source, ...rendezvous], peer(lab.hostA.ns));
    const { code } = await sender.next("code");
    const receiver = spawnCli(
      ["receive", String(code), "--out", out, "--yes", ...rendezvous],
      peer(lab.hostB.ns),
    );
    const [sent, received] = await Promise.all([sender.finished(), receiver.finished()]);
    if (sent.code !== 0 || received.code !== 0) {
      throw new Error(`p2pft failed: ${sent.stderr} ${received.stderr}`);
    }
    const done = received.events.find((event) => event.type === "done")!;
    return (Number(done.bytes) * 8) / 1e6 / Number(done.seconds);
  } finally {
    server.kill();
    await server.finished();
    await Deno.remove(out, { recursive: true });
  }
}

/** One TCP stream's goodput; a run iperf3 reports without a result (seen at 1 % loss) runs again. */
async function tcpGoodput(
  lab: Awaited<ReturnType<typeof createLab>>,
  congestion: string,
): Promise<number> {
  let last = "";
  for (let run = 0; run < 3; run++) {
    const report = await iperfRun(lab, congestion);
    const bitsPerSecond = report.end?.sum_received?.bits_per_second;
    if (typeof bitsPerSecond === "number") return bitsPerSecond / 1e6;
    last = JSON.stringify(report).slice(0, 300);
  }
  throw new Error(`iperf3 gave no result in 3 runs: ${last}`);
}

async function iperfRun(
  lab: Awaited<ReturnType<typeof createLab>>,
  congestion: string,
  // deno-lint-ignore no-explicit-any
): Promise<any> {
  const server = lab.spawn(lab.hostA.ns, realtime(["iperf3", "-s", "-1", "-p", "5201"]), {
    stdout: "null",
    stderr: "null",
  });
  try {
    // iperf3 needs a moment to listen; retry the client until it connects.
    for (let attempt = 0;; attempt++) {
      const result = await lab.exec(lab.hostB.ns, [
        ...realtime(["iperf3"]),
        "-c",
        lab.hostA.ip,
        "-p",
        "5201",
        "-t",
        String(TCP_SECONDS),
        "-J",
        "-C",
        congestion,
      ]);
      if (result.code === 0) return JSON.parse(result.stdout);
      if (attempt >= 20) throw new Error(`iperf3 failed: ${result.stdout} ${result.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    try {
      server.kill();
    } catch { /* already ended */ }
    await server.status;
  }
}

/** UDP datagrams the namespace's sockets dropped for a full receive buffer so far (RcvbufErrors). */
async function udpReceiveDrops(
  lab: Awaited<ReturnType<typeof createLab>>,
  ns: string,
): Promise<number> {
  const { stdout } = await lab.exec(ns, ["cat", "/proc/net/snmp"]);
  const [names, values] = stdout.split("\n").filter((line) => line.startsWith("Udp:"))
    .map((line) => line.trim().split(/\s+/));
  return Number(values[names.indexOf("RcvbufErrors")]);
}

/** Packets the namespace's qdiscs dropped so far (the tbf on its public link: a full queue). */
async function queueDrops(
  lab: Awaited<ReturnType<typeof createLab>>,
  ns: string,
): Promise<number> {
  const { stdout } = await lab.exec(ns, ["tc", "-s", "qdisc", "show"]);
  return [...stdout.matchAll(/\(dropped (\d+),/g)].reduce((sum, [, n]) => sum + Number(n), 0);
}

/** Puts the lab's delay lines (its only processes before any spawn) above the measured programs. */
async function realtimeDelayLines(lab: Awaited<ReturnType<typeof createLab>>): Promise<void> {
  for (const pid of lab.pids()) {
    const { code, stderr } = await new Deno.Command("chrt", {
      args: ["-r", "-p", RT_DELAY_LINE, String(pid)],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (code !== 0) throw new Error(`chrt failed: ${new TextDecoder().decode(stderr).trim()}`);
  }
}
