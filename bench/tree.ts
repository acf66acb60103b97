/**
 * `deno task bench:tree`: one folder of many small files end to end over
 * loopback, p2pft (the CLI, through its own rendezvous server, `--no-local`)
 * against `tar c | nc` (the floor) in one run. It builds its own tree (N files
 * of S bytes in D folders), checks every received file's bytes, and prints per
 * tool: seconds (first process started to both exited), files/s, the ratio to
 * tar|nc, seconds until the receiver saw its first byte, CPU seconds and peak
 * RSS of each side, and how long `find` takes to list the tree (the issue asks
 * the first byte to move within about 2x that).
 *
 *   deno task bench:tree [--files 20000] [--size 1024] [--dirs 100] [--cpu-prof DIR]
 *
 * `--cpu-prof DIR` writes V8 CPU profiles of both p2pft processes into DIR.
 */
import { join } from "node:path";
import { type CliRun, spawnCli, spawnJsonLines } from "../scripts/cli_process.ts";

const option = (name: string, fallback: string) => {
  const at = Deno.args.indexOf(name);
  return at >= 0 ? Deno.args[at + 1] : fallback;
};
const files = Number(option("--files", "20000"));
const size = Number(option("--size", "1024"));
const dirs = Math.max(1, Number(option("--dirs", "100")));
const cpuProf = option("--cpu-prof", "");
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const NAME = "tree";

/** One side's CPU seconds and peak RSS, as /usr/bin/time saw them. */
interface Usage {
  cpuSeconds: number;
  peakRssMb: number;
}

interface Run {
  seconds: number;
  firstByteSeconds?: number;
  sender: Usage;
  receiver: Usage;
}

const dir = await Deno.makeTempDir({ prefix: "p2pft-bench-tree-" });
let reports = 0;

/** `argv` under /usr/bin/time: its CPU and peak RSS count even after it exits. */
function timed(argv: string[], options: { cwd?: string } = {}) {
  const report = join(dir, `time-${reports++}.txt`);
  const run = spawnJsonLines(argv, {
    ...options,
    wrapper: ["/usr/bin/time", "-o", report, "-f", "%U %S %M"],
  });
  return {
    run,
    async finished(what: string): Promise<Usage> {
      const done = await run.finished();
      if (done.code !== 0) throw new Error(`${what} exited with ${done.code}: ${done.stderr}`);
      const [user, system, kib] = (await Deno.readTextFile(report)).trim().split("\n").at(-1)!
        .split(" ").map(Number);
      return { cpuSeconds: user + system, peakRssMb: kib / 1024 };
    },
  };
}

/** N files of S bytes, spread over D folders, with different bytes in each. */
function buildTree(root: string): void {
  const pool = new Uint8Array(size + 65536);
  for (let offset = 0; offset < pool.length; offset += 65536) {
    crypto.getRandomValues(pool.subarray(offset, Math.min(pool.length, offset + 65536)));
  }
  for (let folder = 0; folder < dirs; folder++) {
    Deno.mkdirSync(join(root, `d${String(folder).padStart(5, "0")}`), { recursive: true });
  }
  for (let index = 0; index < files; index++) {
    const folder = `d${String(index % dirs).padStart(5, "0")}`;
    const at = (index * 7919) % 65536;
    Deno.writeFileSync(
      join(root, folder, `f${String(index).padStart(7, "0")}`),
      pool.subarray(at, at + size),
    );
  }
}

/** Throws unless `received` holds exactly the files of `source`, byte for byte. */
function checkTree(source: string, received: string): void {
  const names = (root: string) =>
    [...Deno.readDirSync(root)].map((entry) => entry.name).sort().join("/");
  if (names(source) !== names(received)) throw new Error(`${received}: different folders`);
  for (const folder of Deno.readDirSync(source)) {
    const from = join(source, folder.name);
    const to = join(received, folder.name);
    if (names(from) !== names(to)) throw new Error(`${to}: different files`);
    for (const file of Deno.readDirSync(from)) {
      const a = Deno.readFileSync(join(from, file.name));
      const b = Deno.readFileSync(join(to, file.name));
      if (a.length !== b.length || !a.every((byte, at) => byte === b[at])) {
        throw new Error(`${join(to, file.name)}: different bytes`);
      }
    }
  }
}

function freePort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return (listener.addr as Deno.NetAddr).port;
}

/** Resolves once something listens on TCP `port` (/proc/net/tcp, state 0A). */
async function listening(port: number, signal: AbortSignal): Promise<void> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")} `;
  while (true) {
    signal.throwIfAborted();
    const table = await Deno.readTextFile("/proc/net/tcp");
    if (table.split("\n").some((line) => line.includes(hex) && line.includes(" 0A "))) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** `tar c | nc` into `nc | tar x`: the receiver listens, so the sender never waits on a retry. */
async function tarNc(source: string, out: string): Promise<Run> {
  const port = freePort();
  const receiver = timed(["bash", "-c", `nc -l -d 127.0.0.1 ${port} | tar x -C '${out}'`]);
  await listening(port, AbortSignal.timeout(10_000));
  const started = performance.now();
  const sender = timed(["bash", "-c", `tar c -C '${source}' ${NAME} | nc -N 127.0.0.1 ${port}`]);
  const [sent, received] = await Promise.all([
    sender.finished("tar|nc sender"),
    receiver.finished("tar|nc receiver"),
  ]);
  return { seconds: (performance.now() - started) / 1000, sender: sent, receiver: received };
}

/** The p2pft CLI on both sides, started together with an agreed code. */
async function p2pft(source: string, out: string, server: CliRun): Promise<Run> {
  const { port } = await server.next("listening");
  const common = ["--rendezvous", `127.0.0.1:${port}`, "--no-local", "--json", "--timeout", "600"];
  const code = "7-tree-code";
  const deno = (tag: string) => [
    Deno.execPath(),
    "run",
    "-A",
    ...(cpuProf
      ? ["--cpu-prof", `--cpu-prof-dir=${cpuProf}`, `--cpu-prof-name=${tag}.cpuprofile`]
      : []),
    MAIN,
  ];
  const started = performance.now();
  const sender = timed([...deno("send"), "send", join(source, NAME), "--code", code, ...common]);
  const receiver = timed([...deno("receive"), "receive", code, ...common, "--out", out, "--yes"]);
  const firstByte = receiver.run.until((event) => event.type === "progress")
    .then(() => (performance.now() - started) / 1000, () => undefined);
  const [sent, received] = await Promise.all([
    sender.finished("p2pft send"),
    receiver.finished("p2pft receive"),
  ]);
  return {
    seconds: (performance.now() - started) / 1000,
    firstByteSeconds: await firstByte,
    sender: sent,
    receiver: received,
  };
}

async function findSeconds(root: string): Promise<number> {
  const started = performance.now();
  await new Deno.Command("find", { args: [root], stdout: "null" }).output();
  return (performance.now() - started) / 1000;
}

function row(tool: string, run: Run, floor: Run): Record<string, string> {
  return {
    tool,
    seconds: run.seconds.toFixed(2),
    "files/s": (files / run.seconds).toFixed(0),
    "x tar|nc": (run.seconds / floor.seconds).toFixed(2),
    "first byte s": run.firstByteSeconds?.toFixed(2) ?? "-",
    "CPU s send/recv": `${run.sender.cpuSeconds.toFixed(1)} / ${
      run.receiver.cpuSeconds.toFixed(1)
    }`,
    "peak RSS MB send/recv": `${run.sender.peakRssMb.toFixed(0)} / ${
      run.receiver.peakRssMb.toFixed(0)
    }`,
  };
}

const server = spawnCli(["serve", "--host", "127.0.0.1", "--port", "0", "--json"]);
try {
  const source = join(dir, "source");
  buildTree(join(source, NAME));
  const find = await findSeconds(join(source, NAME));
  const outputs = { tar: join(dir, "out-tar"), p2pft: join(dir, "out-p2pft") };
  for (const out of Object.values(outputs)) await Deno.mkdir(out);
  const floor = await tarNc(source, outputs.tar);
  const ours = await p2pft(source, outputs.p2pft, server);
  checkTree(join(source, NAME), join(outputs.tar, NAME));
  checkTree(join(source, NAME), join(outputs.p2pft, NAME));
  const load = (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(" ");
  console.log(
    `${files} files of ${size} bytes in ${dirs} folders over loopback, every file checked; ` +
      `find lists them in ${find.toFixed(2)} s; load ${load}`,
  );
  console.table([row("tar | nc", floor, floor), row("p2pft", ours, floor)]);
} finally {
  server.kill();
  await server.finished();
  await Deno.remove(dir, { recursive: true });
}
