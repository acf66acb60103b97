/**
 * `deno task demo`: a real rendezvous server, sender and receiver as three
 * processes on this machine; sends a generated file and checks it arrived intact.
 */
import { spawnCli } from "./cli_process.ts";
import { makeRandomFile, sha256File } from "./files.ts";

const SIZE = 32 * 1024 * 1024;
const dir = await Deno.makeTempDir({ prefix: "p2pft-demo-" });
const processes: Array<{ kill(): void }> = [];
try {
  const source = `${dir}/holiday-photos.bin`;
  const outDir = `${dir}/received`;
  await Deno.mkdir(outDir);
  await makeRandomFile(source, SIZE);
  const expected = await sha256File(source);
  step(`Made ${source} (${SIZE / 1024 / 1024} MiB, sha256 ${expected.slice(0, 16)}...)`);

  const server = spawnCli(["serve", "--host", "127.0.0.1", "--port", "0", "--json"]);
  processes.push(server);
  const listening = await server.next("listening");
  const rendezvous = `127.0.0.1:${listening.port}`;
  step(`Rendezvous server listening on ${rendezvous} (pid ${server.pid})`);

  // --no-local: the demo shows the path through the server and stays off the LAN.
  const sender = spawnCli(["send", source, "--rendezvous", rendezvous, "--no-local", "--json"]);
  processes.push(sender);
  const { code } = await sender.next("code");
  step(`Sender (pid ${sender.pid}) says: code is ${code}`);

  const receiver = spawnCli([
    "receive",
    String(code),
    "--out",
    outDir,
    "--yes",
    "--rendezvous",
    rendezvous,
    "--no-local",
    "--json",
  ]);
  processes.push(receiver);
  step(`Receiver (pid ${receiver.pid}) runs: p2pft receive ${code}`);
  const connected = await receiver.next("connected");
  step(`Connected: path ${connected.path} to ${connected.remote}, ${connected.reason}`);

  const [sent, received] = await Promise.all([sender.finished(), receiver.finished()]);
  for (const [name, run] of [["sender", sent], ["receiver", received]] as const) {
    if (run.code !== 0) throw new Error(`${name} exited ${run.code}: ${run.stderr.trim()}`);
  }
  const done = received.events.find((event) => event.type === "done")!;
  const actual = await sha256File(`${outDir}/holiday-photos.bin`);
  if (actual !== expected || done.sha256 !== expected) {
    throw new Error(`Hash mismatch: sent ${expected}, received ${actual}`);
  }
  const seconds = Number(done.seconds);
  step(
    `Received ${SIZE / 1024 / 1024} MiB in ${seconds.toFixed(2)} s (${
      (SIZE / 1e6 / seconds).toFixed(0)
    } MB/s) via ${done.path}`,
  );
  step(`Verified: sha256 ${actual} matches on both sides`);
} catch (error) {
  console.error(`demo failed: ${error instanceof Error ? error.message : error}`);
  Deno.exitCode = 1;
} finally {
  for (const process of processes) process.kill();
  await Deno.remove(dir, { recursive: true });
}

function step(text: string): void {
  console.log(`[demo] ${text}`);
}
