/**
 * `deno task bench`, all over loopback in one run:
 * 1. one large file through the full p2pft CLI (rendezvous, punch, QUIC,
 *    SPAKE2, hashing, disk) beside a bare Deno QUIC stream (also with SHA-256
 *    on both ends) and a bare TCP socket,
 *    with the peak RSS of sender and receiver, for two file sizes;
 * 2. the same file through the relay (`--relay-only`) against the direct path;
 * 3. 10,000 small files against one file of the same total size.
 *
 *   deno task bench [--sizes 256,1024] [--small-files 10000] [--runs 3]
 *
 * Transfer rates are medians of --runs runs; peak RSS is the highest seen.
 */
import { spawnCli } from "../scripts/cli_process.ts";
import { makeRandomFile } from "../scripts/files.ts";
import { PeakRss } from "./_bench_util.ts";

const sizesArg = Deno.args.indexOf("--sizes");
const sizesMiB = sizesArg >= 0 ? Deno.args[sizesArg + 1].split(",").map(Number) : [256, 1024];
const dir = await Deno.makeTempDir({ prefix: "p2pft-bench-" });
const smallArg = Deno.args.indexOf("--small-files");
const smallFiles = smallArg >= 0 ? Number(Deno.args[smallArg + 1]) : 10_000;
const runsArg = Deno.args.indexOf("--runs");
/** Each measurement is the median of this many runs, interleaved (loopback numbers are noisy). */
const RUNS = runsArg >= 0 ? Number(Deno.args[runsArg + 1]) : 3;
const SMALL_FILE_BYTES = 4096;
const results: Array<Record<string, string | number>> = [];
const relay: Array<Record<string, string | number>> = [];

try {
  for (const mib of sizesMiB) {
    const source = `${dir}/source-${mib}.bin`;
    await makeRandomFile(source, mib * 1024 * 1024);
    const samples = { quic: [] as number[], quicHashed: [] as number[], tcp: [] as number[] };
    const cli: Array<Awaited<ReturnType<typeof viaCli>>> = [];
    for (let run = 0; run < RUNS; run++) {
      samples.quic.push(await bare("quic", source, `${dir}/bare-quic.bin`));
      samples.quicHashed.push(await bare("quic", source, `${dir}/bare-quic.bin`, ["--hash"]));
      samples.tcp.push(await bare("tcp", source, `${dir}/bare-tcp.bin`));
      cli.push(await viaCli(source, `${dir}/out-${mib}`));
    }
    const quic = median(samples.quic);
    const quicHashed = median(samples.quicHashed);
    const tcp = median(samples.tcp);
    const p2pft = {
      mbps: median(cli.map((run) => run.mbps)),
      senderRss: Math.max(...cli.map((run) => run.senderRss)),
      receiverRss: Math.max(...cli.map((run) => run.receiverRss)),
    };
    results.push({
      "file MiB": mib,
      "p2pft MB/s": p2pft.mbps.toFixed(0),
      "bare QUIC MB/s": quic.toFixed(0),
      "bare QUIC + SHA-256 MB/s": quicHashed.toFixed(0),
      "bare TCP MB/s": tcp.toFixed(0),
      "p2pft / QUIC": (p2pft.mbps / quic).toFixed(2),
      "p2pft / QUIC+SHA": (p2pft.mbps / quicHashed).toFixed(2),
      "p2pft / TCP": (p2pft.mbps / tcp).toFixed(2),
      "sender peak RSS MiB": p2pft.senderRss.toFixed(0),
      "receiver peak RSS MiB": p2pft.receiverRss.toFixed(0),
    });
    if (mib === sizesMiB[0]) {
      const relayed = await viaCli(source, `${dir}/out-relay`, ["--relay-only"]);
      relay.push({
        "file MiB": mib,
        "direct MB/s": p2pft.mbps.toFixed(0),
        "relay MB/s": relayed.mbps.toFixed(0),
        "relay / direct": (relayed.mbps / p2pft.mbps).toFixed(2),
      });
    }
    await Deno.remove(source);
  }
  console.log("One large file over loopback:");
  console.table(results);
  if (results.length > 1) {
    const first = results[0];
    const last = results[results.length - 1];
    console.log(
      `RSS growth from ${first["file MiB"]} to ${last["file MiB"]} MiB: sender ${
        (Number(last["sender peak RSS MiB"]) / Number(first["sender peak RSS MiB"])).toFixed(2)
      }x, receiver ${
        (Number(last["receiver peak RSS MiB"]) / Number(first["receiver peak RSS MiB"])).toFixed(2)
      }x`,
    );
  }
  console.log("Through the rendezvous server's relay (end-to-end encrypted) vs direct:");
  console.table(relay);
  console.log(
    `${smallFiles} small files of ${SMALL_FILE_BYTES} bytes vs one file of the same size:`,
  );
  console.table([await smallFilesRow()]);
} finally {
  await Deno.remove(dir, { recursive: true });
}

async function bare(
  transport: "quic" | "tcp",
  source: string,
  target: string,
  extra: string[] = [],
): Promise<number> {
  const script = new URL("./bare_stream.ts", import.meta.url).pathname;
  const receiver = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, "receive", transport, target, ...extra],
    stdout: "piped",
  }).spawn();
  const lines = receiver.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const { value: first } = await lines.read();
  const { port } = JSON.parse(first!);
  const sender = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, "send", transport, String(port), source, `${target}.pem`, ...extra],
  }).output();
  let rest = "";
  for (let chunk = await lines.read(); !chunk.done; chunk = await lines.read()) rest += chunk.value;
  await receiver.status;
  if (!sender.success) {
    throw new Error(`bare ${transport} sender failed: ${new TextDecoder().decode(sender.stderr)}`);
  }
  const { bytes, seconds } = JSON.parse(rest.trim().split("\n").at(-1)!);
  await Deno.remove(target);
  return bytes / 1e6 / seconds;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function smallFilesRow(): Promise<Record<string, string | number>> {
  const tree = `${dir}/small`;
  await Deno.mkdir(tree);
  const content = new Uint8Array(SMALL_FILE_BYTES);
  for (let index = 0; index < smallFiles; index++) {
    crypto.getRandomValues(content);
    await Deno.writeFile(`${tree}/file-${String(index).padStart(5, "0")}.bin`, content);
  }
  const many = await viaCli(tree, `${dir}/out-small`);
  await Deno.remove(tree, { recursive: true });
  const single = `${dir}/single.bin`;
  await makeRandomFile(single, smallFiles * SMALL_FILE_BYTES);
  const one = await viaCli(single, `${dir}/out-single`);
  await Deno.remove(single);
  return {
    files: smallFiles,
    "seconds": many.seconds.toFixed(2),
    "files/s": (smallFiles / many.seconds).toFixed(0),
    "MB/s": many.mbps.toFixed(1),
    "one file MB/s": one.mbps.toFixed(1),
    "small / one file": (many.mbps / one.mbps).toFixed(2),
    "receiver peak RSS MiB": many.receiverRss.toFixed(0),
  };
}

async function viaCli(source: string, outDir: string, extraArgs: string[] = []) {
  await Deno.mkdir(outDir);
  const server = spawnCli(["serve", "--host", "127.0.0.1", "--port", "0", "--json"]);
  try {
    const { port } = await server.next("listening");
    // --no-local: everything runs on this machine, through the server, nothing on the LAN.
    const rendezvous = ["--rendezvous", `127.0.0.1:${port}`, "--no-local", "--json", ...extraArgs];
    const sender = spawnCli(["send", source, ...rendezvous]);
    const senderRss = new PeakRss(sender.pid);
    const { code } = await sender.next("code");
    const receiver = spawnCli(["receive", String(code), "--out", outDir, "--yes", ...rendezvous]);
    const receiverRss = new PeakRss(receiver.pid);
    const [sent, received] = await Promise.all([sender.finished(), receiver.finished()]);
    const peaks = [senderRss.stop(), receiverRss.stop()];
    if (sent.code !== 0 || received.code !== 0) {
      throw new Error(
        `p2pft failed: sender ${sent.code} ${sent.stderr}; receiver ${received.code} ${received.stderr}`,
      );
    }
    const done = received.events.find((event) => event.type === "done")!;
    return {
      mbps: Number(done.bytes) / 1e6 / Number(done.seconds),
      seconds: Number(done.seconds),
      senderRss: peaks[0] / 1024 / 1024,
      receiverRss: peaks[1] / 1024 / 1024,
    };
  } finally {
    server.kill();
    await server.finished();
    await Deno.remove(outDir, { recursive: true });
  }
}
