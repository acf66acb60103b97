/**
 * `p2pft` as people install it. `deno task install` puts the command in a temp
 * root (never the real PATH); the installed command, with only the flags in
 * scripts/permissions.ts, must print its version and move a folder over
 * loopback. With P2PFT_BIN=/path/to/binary the same checks run against that
 * file instead: the release workflow's smoke test of each `deno compile` build.
 * `deno task compile` must fail in one line, fast, where denort cannot be downloaded.
 */
import assert from "node:assert/strict";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import denoJson from "../deno.json" with { type: "json" };
import { installedCommand } from "../scripts/install.ts";
import { P2PFT_FLAGS } from "../scripts/permissions.ts";
import { type CliRun, spawnJsonLines } from "../scripts/cli_process.ts";
import { makeRandomFile, sha256File } from "../scripts/files.ts";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const PREBUILT = Deno.env.get("P2PFT_BIN");
const INSTALL_TEST_TIMEOUT_MS = 90_000;
const COMPILE_TEST_TIMEOUT_MS = 30_000;

/** Spawns `command args...` and reads stdout as `--json` events (killed with SIGKILL on the deadline). */
function spawn(
  command: string,
  args: string[],
  options: { env: Record<string, string>; cwd?: string },
): Run {
  const run = spawnJsonLines([command, ...args], options);
  return { ...run, kill: () => run.kill("SIGKILL") };
}

type Run = Pick<CliRun, "next" | "finished" | "kill">;

/** Runs to the end; `runs` lets the caller kill it on its deadline. */
async function runToEnd(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; runs: Run[] },
) {
  const run = spawn(command, args, { env: options.env ?? {}, cwd: REPO });
  options.runs.push(run);
  return await run.finished();
}

/** The command under test: P2PFT_BIN, or `deno task install --root <temp>`. */
async function p2pftCommand(root: string, runs: Run[]): Promise<string> {
  if (PREBUILT) return PREBUILT;
  const install = await runToEnd(Deno.execPath(), ["task", "install", "--root", root], { runs });
  assert.equal(install.code, 0, `deno task install failed: ${install.stdout}${install.stderr}`);
  const command = installedCommand(root);
  assert.match(install.stdout, new RegExp(`Installed p2pft ${denoJson.version}\\b`));
  const shim = await Deno.readTextFile(command);
  for (const flag of P2PFT_FLAGS) assert.ok(shim.includes(flag), `shim lacks ${flag}:\n${shim}`);
  // Nothing broader: no -A, no unscoped env or sys, no FFI, no subprocess but `sync` and `dd`.
  assert.doesNotMatch(shim, /\s(-A|--allow-all|--allow-env|--allow-sys)(\s|$)|--allow-ffi/);
  assert.deepEqual(shim.match(/--allow-run\S*/g), ["--allow-run=sync,dd"]);
  return command;
}

Deno.test({
  name: PREBUILT
    ? `${PREBUILT} prints its version and sends a folder over loopback`
    : "deno task install makes a p2pft command that prints its version and sends a folder over loopback",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "p2pft-install-" });
    const runs: Run[] = [];
    // On the deadline every process is killed, so each wait below ends.
    const deadline = new AbortController();
    const timer = setTimeout(() => {
      deadline.abort(new Error(`timed out after ${INSTALL_TEST_TIMEOUT_MS / 1000} s`));
      for (const run of runs) run.kill();
    }, INSTALL_TEST_TIMEOUT_MS);
    const signal = deadline.signal;
    try {
      const command = await p2pftCommand(join(dir, "root"), runs);
      // The installed shim runs `deno` from PATH: use the deno running this test.
      const env = {
        PATH: [dirname(Deno.execPath()), dirname(command), Deno.env.get("PATH") ?? ""]
          .join(delimiter),
      };

      const version = await runToEnd(command, ["--version"], { env, runs });
      assert.equal(version.code, 0, version.stderr);
      assert.match(version.stdout, new RegExp(`^p2pft ${denoJson.version}\\b`));
      assert.equal(version.stderr, "");

      const album = join(dir, "album");
      await Deno.mkdir(join(album, "notes"), { recursive: true });
      await makeRandomFile(join(album, "photo.bin"), 1024 * 1024 + 3);
      await Deno.writeTextFile(join(album, "notes", "read me.txt"), "hello from p2pft\n");
      const out = join(dir, "received");
      await Deno.mkdir(out);

      const start = (args: string[], extra: Record<string, string> = {}) => {
        const run = spawn(command, [...args, "--json"], { env: { ...env, ...extra } });
        runs.push(run);
        return run;
      };
      const server = start(["serve", "--host", "127.0.0.1", "--port", "0"]);
      const { port } = await server.next("listening", signal);
      // The sender finds the server through $P2PFT_RENDEZVOUS and a DNS name (--allow-env,
      // node:dns); the receiver through --rendezvous and an IP address.
      // --no-local: the test stays off the host's own networks (no multicast).
      const sender = start(["send", album, "--timeout", "60", "--no-local"], {
        P2PFT_RENDEZVOUS: `localhost:${port}`,
      });
      const { code } = await sender.next("code", signal);
      const receiver = start(
        [
          "receive",
          String(code),
          "--yes",
          "--out",
          out,
          "--rendezvous",
          `127.0.0.1:${port}`,
          "--no-local",
        ],
        { P2PFT_RENDEZVOUS: "" },
      );
      const received = await receiver.finished();
      if (received.code !== 0) sender.kill(); // it would wait for a receiver until --timeout
      const sent = await sender.finished();
      signal.throwIfAborted();
      assert.equal(received.code, 0, `receive: ${received.stdout}${received.stderr}`);
      assert.equal(sent.code, 0, `send: ${sent.stdout}${sent.stderr}`);
      for (const name of ["photo.bin", join("notes", "read me.txt")]) {
        assert.equal(
          await sha256File(join(out, "album", name)),
          await sha256File(join(album, name)),
          `${name} differs`,
        );
      }
      assert.ok(received.events.some((event) => event.type === "done"), received.stdout);
    } finally {
      clearTimeout(timer);
      for (const run of runs) run.kill();
      await Promise.all(runs.map((run) => run.finished()));
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "deno task compile fails in one line, within seconds, when denort cannot be downloaded",
  ignore: PREBUILT !== undefined,
  async fn() {
    // Offline on purpose, whatever this machine can reach: every download goes
    // through a proxy on a closed loopback port, and an empty DENO_DIR has no
    // cached denort. No packet leaves 127.0.0.1.
    const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const proxy = `http://127.0.0.1:${closed.addr.port}`;
    closed.close();
    const denoDir = await Deno.makeTempDir({ prefix: "p2pft-deno-dir-" });
    const outDir = await Deno.makeTempDir({ prefix: "p2pft-dist-" });
    try {
      // The task's own command line, run directly: `deno task` would first fetch every npm
      // package of deno.json into the empty DENO_DIR.
      const [deno, ...task] = denoJson.tasks.compile.split(" ");
      assert.equal(deno, "deno");
      const run = spawn(Deno.execPath(), [...task, "--out-dir", outDir], {
        cwd: REPO,
        env: {
          DENO_DIR: denoDir,
          HTTPS_PROXY: proxy,
          HTTP_PROXY: proxy,
          https_proxy: proxy,
          http_proxy: proxy,
          NO_PROXY: "",
          no_proxy: "",
          DENORT_BIN: "",
        },
      });
      let killed = false;
      const timer = setTimeout(() => {
        killed = true;
        run.kill();
      }, COMPILE_TEST_TIMEOUT_MS);
      const result = await run.finished().finally(() => clearTimeout(timer));
      assert.ok(
        !killed,
        `compile did not end within its ${COMPILE_TEST_TIMEOUT_MS / 1000} s bound`,
      );
      assert.equal(result.code, 1, result.stderr);
      assert.equal(result.stdout, "");
      const lines = result.stderr.split("\n").filter((line) => line !== "");
      assert.equal(lines.length, 1, `expected one line, got:\n${result.stderr}`);
      assert.match(
        lines[0],
        /^error: deno compile needs to download denort for x86_64-unknown-linux-gnu from dl\.deno\.land, which this machine cannot reach \(.+\); build releases on a machine with internet access \(see README "Install"\)$/,
      );
      assert.deepEqual(await Array.fromAsync(Deno.readDir(outDir)), []);
    } finally {
      await Deno.remove(denoDir, { recursive: true });
      await Deno.remove(outDir, { recursive: true });
    }
  },
});

Deno.test("README's deno install line uses exactly the flags in scripts/permissions.ts", async () => {
  const readme = await Deno.readTextFile(join(REPO, "README.md"));
  const line = readme.split("\n").find((text) => text.startsWith("deno install -g "));
  assert.equal(
    line,
    `deno install -g -f -n p2pft --config deno.json ${P2PFT_FLAGS.join(" ")} main.ts`,
  );
});
