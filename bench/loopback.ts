/**
 * `deno task bench`: one run over loopback, every row with its speed, its
 * ratio to the row it is measured against, and the CPU seconds per GiB of
 * both processes (utime + stime from start to exit, from /usr/bin/time):
 * 1. over TCP: p2pft (the CLI with `--transport tcp`, and the transfer over
 *    the TLS link without the CLI) against a bare TLS copy with SHA-256 on
 *    both ends over the same number of connections;
 * 2. over QUIC: the CLI with `--transport quic` against a bare QUIC copy with
 *    SHA-256 on both ends over as many streams;
 * 3. through the relay (`--relay-only`) over TCP and over UDP against the
 *    direct path of the same transport, with the relay's own CPU per GiB (a
 *    default `p2pft serve`, which caps neither rate nor bytes);
 * 4. a 1 KiB file end to end: sender started to both processes exited;
 * 5. many small files against one file of the same size.
 *
 *   deno task bench [--mib 512] [--streams 4] [--small-files 10000] [--tcp-only] [--relay]
 *   deno task bench:relay [--mib 512] [--tcp-only]      (the same as bench --relay)
 *
 * `--tcp-only` runs the TCP rows (1 and the relay over TCP) and nothing else;
 * `--relay` only the CLI rows direct and through the relay (3).
 * Rows whose CLI flag this build lacks (`--transport`) say so instead.
 * "moving" is the CPU per GiB past start-up: each copy's CPU less that of
 * the same copy of a 1 KiB file (process start, handshakes, teardown), which
 * at 128 MiB is most of the CLI rows' "CPU s/GiB".
 */
import { join } from "node:path";
import { type CliRun, spawnCli, spawnJsonLines } from "../scripts/cli_process.ts";
import { makeRandomFile } from "../scripts/files.ts";

const option = (name: string, fallback: number) => {
  const at = Deno.args.indexOf(name);
  return at >= 0 ? Number(Deno.args[at + 1]) : fallback;
};
const MIB = 2 ** 20;
const size = option("--mib", 512) * MIB;
const streams = option("--streams", 4);
const tcpOnly = Deno.args.includes("--tcp-only");
const relayOnly = Deno.args.includes("--relay");
const smallFiles = tcpOnly || relayOnly ? 0 : option("--small-files", 10_000);
const SMALL_FILE_BYTES = 4096;
const COPY_PEER = new URL("./_copy_peer.ts", import.meta.url).pathname;
const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const CLOCK_TICKS = 100;

/** One measured copy: bytes, seconds and the CPU both sides used. */
interface Copy {
  mbps: number;
  cpuSeconds: number;
  bytes: number;
  relayCpuSeconds?: number;
  /** CPU seconds the same copy of a 1 KiB file took: process start, handshakes, teardown. */
  startCpuSeconds?: number;
}

/** A process run under /usr/bin/time, so its CPU counts even after it exits. */
class Timed {
  readonly run: CliRun;
  readonly #report: string;

  constructor(argv: string[], report: string) {
    this.#report = report;
    this.run = spawnJsonLines(argv, { wrapper: ["/usr/bin/time", "-o", report, "-f", "%U %S"] });
  }

  /** Waits for exit; fails on a non-zero exit; returns its output and CPU seconds. */
  async finished(what: string) {
    const done = await this.run.finished();
    if (done.code !== 0) throw new Error(`${what} exited with ${done.code}: ${done.stderr}`);
    const [user, system] = (await Deno.readTextFile(this.#report)).trim().split("\n").at(-1)!
      .split(" ").map(Number);
    return { ...done, cpuSeconds: user + system };
  }
}

const dir = await Deno.makeTempDir({ prefix: "p2pft-bench-" });
let reports = 0;
const timed = (argv: string[]) => new Timed(argv, join(dir, `time-${reports++}.txt`));
const script = (...args: string[]) =>
  timed([Deno.execPath(), "run", "-A", "--config", CONFIG, COPY_PEER, ...args]);
const cli = (...args: string[]) => timed([Deno.execPath(), "run", "-A", MAIN, ...args]);

const help = new TextDecoder().decode(
  (await new Deno.Command(Deno.execPath(), { args: ["run", "-A", MAIN, "--help"] }).output())
    .stdout,
);
const hasTransport = help.includes("--transport");

try {
  const source = join(dir, "source.bin");
  await makeRandomFile(source, size);
  const startUp = join(dir, "start-up.bin");
  await makeRandomFile(startUp, 1024);
  /** A copy of `source`, with the CPU the same copy of a 1 KiB file took. */
  const moving = async (copy: (file: string) => Promise<Copy>): Promise<Copy> => {
    const { cpuSeconds } = await copy(startUp);
    return { ...await copy(source), startCpuSeconds: cpuSeconds };
  };
  const rows: Array<Record<string, string>> = [];
  const row = (name: string, copy: Copy | string, reference?: Copy) => {
    if (typeof copy === "string") {
      rows.push({ row: name, "MB/s": "-", ratio: "-", "CPU s/GiB": "-", moving: "-", note: copy });
      return;
    }
    rows.push({
      row: name,
      "MB/s": copy.mbps.toFixed(0),
      ratio: reference ? (copy.mbps / reference.mbps).toFixed(2) : "1.00",
      "CPU s/GiB": perGiB(copy.cpuSeconds, copy.bytes).toFixed(2),
      "moving": copy.startCpuSeconds === undefined
        ? "-"
        : perGiB(copy.cpuSeconds - copy.startCpuSeconds, copy.bytes).toFixed(2),
      note: copy.relayCpuSeconds === undefined
        ? ""
        : `relay ${perGiB(copy.relayCpuSeconds, copy.bytes).toFixed(2)} CPU s/GiB`,
    });
  };
  const noFlag = "this build has no --transport";

  const bareTls = relayOnly ? undefined : await moving((file) => bare("tls", file));
  if (bareTls) row(`bare TLS x${streams} + SHA-256 both ends`, bareTls);
  const link = relayOnly ? undefined : await moving(overLink);
  if (link) row(`p2pft transfer over the TLS link x${streams} (no CLI)`, link, bareTls);
  const cliTcp = hasTransport
    ? await moving((file) => viaCli(file, ["--transport", "tcp"]))
    : undefined;
  row("p2pft --transport tcp", cliTcp ?? noFlag, bareTls);

  const cliQuic = tcpOnly ? undefined : await quicRows(moving, row);

  if (hasTransport && cliTcp) {
    row(
      "relay over TCP vs direct TCP",
      await moving((file) => viaCli(file, ["--relay-only", "--transport", "tcp"])),
      cliTcp,
    );
  } else row("relay over TCP vs direct TCP", noFlag);
  if (cliQuic) {
    row(
      "relay over UDP vs direct QUIC",
      await moving((file) =>
        viaCli(file, ["--relay-only", ...(hasTransport ? ["--transport", "quic"] : [])])
      ),
      cliQuic,
    );
  }
  console.log(`One ${size / MIB} MiB file over loopback (${Deno.build.target}):`);
  console.table(rows);
  const cpu = cliTcp ?? link;
  if (cliQuic && cpu) {
    console.log(
      `CPU per GiB over TCP / over QUIC: ${
        (perGiB(cpu.cpuSeconds, cpu.bytes) / perGiB(cliQuic.cpuSeconds, cliQuic.bytes)).toFixed(2)
      }x`,
    );
  }
  await Deno.remove(source);
  if (!tcpOnly && !relayOnly) await tinyRuns();
  if (smallFiles > 0) console.table([await smallFilesRow()]);
} finally {
  await Deno.remove(dir, { recursive: true });
}

/** The bare QUIC copy and the CLI over QUIC; returns the CLI's copy. */
async function quicRows(
  moving: (copy: (file: string) => Promise<Copy>) => Promise<Copy>,
  row: (name: string, copy: Copy, reference?: Copy) => void,
): Promise<Copy> {
  const bareQuic = relayOnly ? undefined : await moving((file) => bare("quic", file));
  if (bareQuic) row(`bare QUIC x${streams} streams + SHA-256 both ends`, bareQuic);
  const cliQuic = await moving((file) => viaCli(file, hasTransport ? ["--transport", "quic"] : []));
  row(hasTransport ? "p2pft --transport quic" : "p2pft (QUIC)", cliQuic, bareQuic);
  return cliQuic;
}

/** A 1 KiB file end to end, three runs. */
async function tinyRuns(): Promise<void> {
  const tiny = join(dir, "tiny.bin");
  await makeRandomFile(tiny, 1024);
  const ends: number[] = [];
  const failures: string[] = [];
  for (let run = 0; run < 5 && ends.length < 3; run++) {
    await endToEnd(tiny).then((seconds) => ends.push(seconds), (error) => failures.push(error));
  }
  console.log(
    `1 KiB file, sender start to both processes exited: ${
      ends.map((seconds) => seconds.toFixed(2)).join(" / ")
    } s (median ${ends.length ? median(ends).toFixed(2) : "-"} s)${
      failures.length ? `; ${failures.length} failed runs: ${failures.join("; ")}` : ""
    }`,
  );
}

function perGiB(cpuSeconds: number, bytes: number): number {
  return cpuSeconds / (bytes / 2 ** 30);
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

async function bare(transport: "tls" | "quic", source: string): Promise<Copy> {
  const target = join(dir, `bare-${transport}.bin`);
  const receiver = script("bare-receive", transport, String(streams), target);
  const { port, pem } = await receiver.run.until(() => true) as unknown as {
    port: number;
    pem: string;
  };
  const sender = script("bare-send", transport, String(streams), String(port), source, pem);
  const [sent, received] = await Promise.all([
    sender.finished("bare sender"),
    receiver.finished("bare receiver"),
  ]);
  await Deno.remove(target);
  const { bytes, seconds } = JSON.parse(received.stdout.trim().split("\n").at(-1)!);
  return { mbps: bytes / 1e6 / seconds, bytes, cpuSeconds: sent.cpuSeconds + received.cpuSeconds };
}

async function overLink(source: string): Promise<Copy> {
  const outDir = join(dir, "out-link");
  await Deno.mkdir(outDir);
  const sender = script("link-send", source, String(streams));
  const { port, pem } = await sender.run.until(() => true) as unknown as {
    port: number;
    pem: string;
  };
  const receiver = script("link-receive", String(port), pem, outDir);
  const [sent, received] = await Promise.all([
    sender.finished("link sender"),
    receiver.finished("link receiver"),
  ]);
  await Deno.remove(outDir, { recursive: true });
  const { bytes, seconds } = JSON.parse(received.stdout.trim().split("\n").at(-1)!);
  return { mbps: bytes / 1e6 / seconds, bytes, cpuSeconds: sent.cpuSeconds + received.cpuSeconds };
}

/** CPU seconds a live process has used so far. */
function processCpu(pid: number): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

async function viaCli(source: string, extra: string[]): Promise<Copy> {
  const outDir = join(dir, "out-cli");
  await Deno.mkdir(outDir);
  // A default serve, as users run it: no relay rate or byte cap.
  const server = spawnCli(["serve", "--host", "127.0.0.1", "--port", "0", "--json"]);
  try {
    const { port } = await server.next("listening");
    const relayBefore = processCpu(server.pid);
    // --no-local: everything runs on this machine, through the server, nothing on the LAN.
    const common = ["--rendezvous", `127.0.0.1:${port}`, "--no-local", "--json", ...extra];
    const sender = cli("send", source, ...common);
    const { code } = await sender.run.next("code");
    const receiver = cli("receive", String(code), "--out", outDir, "--yes", ...common);
    const [sent, received] = await Promise.all([
      sender.finished("p2pft send"),
      receiver.finished("p2pft receive"),
    ]);
    const done = received.events.find((event) => event.type === "done")!;
    const bytes = Number(done.bytes);
    return {
      mbps: bytes / 1e6 / Number(done.seconds),
      bytes,
      cpuSeconds: sent.cpuSeconds + received.cpuSeconds,
      relayCpuSeconds: extra.includes("--relay-only")
        ? processCpu(server.pid) - relayBefore
        : undefined,
    };
  } finally {
    server.kill();
    await server.finished();
    await Deno.remove(outDir, { recursive: true });
  }
}

/** Seconds from starting the sender until sender and receiver both exited. */
async function endToEnd(file: string): Promise<number> {
  const outDir = join(dir, "out-tiny");
  await Deno.mkdir(outDir);
  const server = spawnCli(["serve", "--host", "127.0.0.1", "--port", "0", "--json"]);
  try {
    const { port } = await server.next("listening");
    const common = ["--rendezvous", `127.0.0.1:${port}`, "--no-local", "--json"];
    const started = performance.now();
    const sender = spawnCli(["send", file, ...common]);
    const { code } = await sender.next("code");
    const receiver = spawnCli(["receive", String(code), "--out", outDir, "--yes", ...common]);
    const [sent, received] = await Promise.all([sender.finished(), receiver.finished()]);
    const seconds = (performance.now() - started) / 1000;
    if (sent.code !== 0 || received.code !== 0) {
      throw new Error(`1 KiB transfer failed: ${sent.stderr} ${received.stderr}`);
    }
    return seconds;
  } finally {
    server.kill();
    await server.finished();
    await Deno.remove(outDir, { recursive: true });
  }
}

async function smallFilesRow(): Promise<Record<string, string | number>> {
  const tree = join(dir, "small");
  await Deno.mkdir(tree);
  const content = new Uint8Array(SMALL_FILE_BYTES);
  for (let index = 0; index < smallFiles; index++) {
    crypto.getRandomValues(content);
    await Deno.writeFile(join(tree, `file-${String(index).padStart(5, "0")}.bin`), content);
  }
  const many = await viaCli(tree, []);
  await Deno.remove(tree, { recursive: true });
  const single = join(dir, "single.bin");
  await makeRandomFile(single, smallFiles * SMALL_FILE_BYTES);
  const one = await viaCli(single, []);
  await Deno.remove(single);
  return {
    files: smallFiles,
    "MB/s": many.mbps.toFixed(1),
    "files/s": (smallFiles / (many.bytes / 1e6 / many.mbps)).toFixed(0),
    "one file MB/s": one.mbps.toFixed(1),
    "small / one file": (many.mbps / one.mbps).toFixed(2),
    "CPU s/GiB": perGiB(many.cpuSeconds, many.bytes).toFixed(2),
  };
}
