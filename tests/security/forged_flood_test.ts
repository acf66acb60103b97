/**
 * A flood with forged source addresses (raw socket, in the network lab) while
 * a real send/receive CLI pair transfers through a real `serve`. The forger
 * sits on host A's LAN and sends from random addresses — host A's own public
 * address among them, as someone wanting to lock host A out of the server
 * would — junk, junk behind the rendezvous header, and well-formed
 * registrations without a cookie or with a wrong one. Nothing it sends can
 * prove its source, so it gets no per-source state and no room; the server's
 * cookie answers go to the forged addresses, never more bytes than came in.
 */
import assert from "node:assert/strict";
import { boundedTest } from "../bounded.ts";
import { type CliRun, spawnCli } from "../../scripts/cli_process.ts";
import { makeRandomFile, sha256File } from "../../scripts/files.ts";
import { createLab, labSkip } from "../lab/mod.ts";
import { encodeMessage, MAX_REPLY_SIZE, PROTOCOL_VERSION } from "../../rendezvous/mod.ts";
import { toHex } from "../../base/mod.ts";

const skip = await labSkip();
const PORT = 9000;
const RATE = 2_000;
/** The flood's limit: it is stopped once the honest pair is done. */
const FLOOD_SECONDS = 60;
const FORGER = new URL("./forge_udp.py", import.meta.url).pathname;

function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

/** The forger's datagrams: a quarter each of junk, header junk, no cookie, a wrong cookie. */
function payloads(count: number): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    let data: Uint8Array;
    if (i % 4 === 0) data = randomBytes(1 + Math.floor(Math.random() * 1200));
    else if (i % 4 === 1) {
      data = randomBytes(6 + Math.floor(Math.random() * 1000));
      data.set([0x50, 0x32, 0x52, 0x56, PROTOCOL_VERSION], 0);
    } else {
      data = encodeMessage({
        type: "register",
        role: i % 8 < 4 ? "send" : "receive",
        clientId: randomBytes(16),
        nameplate: String(50_000 + Math.floor(Math.random() * 50_000)),
        candidates: [],
        ...(i % 4 === 3 ? { cookie: randomBytes(16) } : {}),
      }, { padTo: MAX_REPLY_SIZE });
    }
    lines.push(toHex(data));
  }
  return lines.join("\n") + "\n";
}

/** The `Udp:` counters of /proc/net/snmp, as `name=value` text. */
function udpCounters(snmp: string): string {
  const [names, values] = snmp.split("\n").filter((line) => line.startsWith("Udp:"));
  if (!names || !values) return "no Udp counters";
  const valueList = values.split(/\s+/).slice(1);
  return names.split(/\s+/).slice(1).map((name, i) => `${name}=${valueList[i]}`).join(" ");
}

/** Lines of a child's stdout, one at a time. */
async function* lines(child: Deno.ChildProcess): AsyncGenerator<string> {
  let buffered = "";
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let end;
    while ((end = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
    }
  }
}

boundedTest(
  `a transfer completes while a flood with forged source addresses hits the server${skip.note}`,
  async (signal) => {
    const dir = await Deno.makeTempDir({ prefix: "p2pft-forged-" });
    const runs: CliRun[] = [];
    const killAll = () => runs.forEach((run) => run.kill("SIGKILL"));
    signal.addEventListener("abort", killAll, { once: true });
    try {
      await using lab = await createLab({
        natA: "none",
        natB: "none",
        signal: AbortSignal.any([signal, AbortSignal.timeout(60_000)]),
      });
      const spawn = (ns: string, args: string[]) => {
        const run = spawnCli(args, { wrapper: ["ip", "netns", "exec", ns], cwd: dir });
        runs.push(run);
        return run;
      };
      const serve = spawn(lab.rendezvous.ns, [
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        String(PORT),
        "--json",
      ]);
      await serve.next("listening", signal);

      await Deno.writeTextFile(`${dir}/payloads.hex`, payloads(400));
      const forger = lab.spawn(lab.hostA2.ns, [
        "python3",
        FORGER,
        lab.rendezvous.ip,
        String(PORT),
        String(RATE),
        String(FLOOD_SECONDS),
        `${dir}/payloads.hex`,
        `${lab.hostA.ip}/32`, // the honest sender's own address
        "198.51.100.0/24", // the homes' public addresses
        "192.0.2.0/24", // routed nowhere in the lab: the answers die at the internet router
        "100.64.0.0/10", // likewise
      ], { stdout: "piped", stderr: "piped" });
      const output = lines(forger);
      const first = await output.next();
      assert.equal(first.value, "started", "the forger did not start");
      let forging = true;
      const forged = (async () => {
        const summary = await output.next();
        forging = false;
        return JSON.parse(String(summary.value)) as { sent: number; bytes: number };
      })();

      const source = `${dir}/payload.bin`;
      await makeRandomFile(source, 2 * 1024 * 1024);
      const expected = await sha256File(source);
      await Deno.mkdir(`${dir}/in`);
      const rendezvous = ["--rendezvous", `${lab.rendezvous.ip}:${PORT}`, "--json"];
      const sender = spawn(lab.hostA.ns, ["send", source, ...rendezvous, "--timeout", "30"]);
      const { code } = await sender.next("code", signal);
      const receiver = spawn(lab.hostB.ns, [
        "receive",
        String(code),
        "--out",
        `${dir}/in`,
        "--yes",
        ...rendezvous,
      ]);
      const [sent, received] = await Promise.all([sender.finished(), receiver.finished()]);
      if (!forging) {
        const stderr = new TextDecoder().decode(await new Response(forger.stderr).bytes());
        assert.fail(`the forged flood ended before the honest transfer: ${stderr}`);
      }
      forger.kill("SIGTERM");
      assert.equal(sent.code, 0, `sender: ${sent.stderr}`);
      assert.equal(received.code, 0, `receiver: ${received.stderr}`);
      assert.equal(await sha256File(`${dir}/in/payload.bin`), expected);

      const flood = await forged;
      const status = await forger.status;
      assert.ok(
        status.success,
        new TextDecoder().decode(await new Response(forger.stderr).bytes()),
      );
      serve.kill("SIGTERM");
      const { stats } = await serve.next("stopped", signal) as {
        stats: Record<string, number>;
        type: string;
      };
      const snmp = await lab.exec(lab.rendezvous.ns, ["cat", "/proc/net/snmp"]);
      const why = `${JSON.stringify(flood)} forged; server ${JSON.stringify(stats)}; ${
        udpCounters(snmp.stdout)
      }`;
      console.log(`forged flood: ${why}`);
      // The forged datagrams reached the server (those the kernel dropped from a full receive
      // buffer, RcvbufErrors, never reached any code)...
      assert.ok(stats.received >= flood.sent * 0.5, why);
      assert.ok(stats.cookies > 0 && stats.malformed > 0, why);
      // ...and got no state: the only proven sources are the two honest sockets, the only room
      // theirs, and no honest request (from host A's address too) was rate-limited.
      assert.equal(stats.sources, 2, why);
      assert.ok(stats.rooms <= 1, why);
      assert.equal(stats.rateLimited, 0, why);
      assert.equal(stats.errors, 0, why);
      // No amplification: every byte sent to the forged addresses was paid for by a larger request.
      assert.ok(stats.udpReplyBytes <= stats.udpRequestBytes, why);
    } finally {
      signal.removeEventListener("abort", killAll);
      killAll();
      await Promise.all(runs.map((run) => run.finished()));
      await Deno.remove(dir, { recursive: true });
    }
  },
  { timeoutMs: 150_000, ignore: skip.ignore, sanitizeResources: false },
);
