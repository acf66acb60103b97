/**
 * What every end-to-end test needs: a temp dir, a real `serve` process on
 * 127.0.0.1, and child processes that are all killed (by PID) and awaited on
 * dispose or when the test's time is up.
 */
import {
  type CliRun,
  spawnCli,
  type SpawnCliOptions,
  spawnScript,
} from "../scripts/cli_process.ts";

export interface World extends AsyncDisposable {
  /** A fresh temp dir, removed on dispose. */
  dir: string;
  /** The real rendezvous server's address, `127.0.0.1:PORT`. */
  server: string;
  /**
   * `--rendezvous 127.0.0.1:PORT --no-local`, for send and receive: tests on
   * the host never multicast on the host's own networks (local discovery is
   * tested in network namespaces: local/, tests/nat_test.ts).
   */
  rendezvous: string[];
  /** The `serve` process (SIGTERM makes it print a `stopped` event with its stats). */
  serve: CliRun;
  /** Starts `main.ts` with `args`; killed on dispose. */
  spawnCli(args: string[], options?: SpawnCliOptions): CliRun;
  /** Starts a helper script; killed on dispose. */
  spawnScript(script: URL, args: string[]): CliRun;
}

/**
 * Starts `main.ts serve --host 127.0.0.1 --port 0`. When `signal` aborts
 * (the test's time is up), every process is killed at once.
 */
export async function world(signal: AbortSignal): Promise<World> {
  const dir = await Deno.makeTempDir({ prefix: "p2pft-e2e-" });
  const runs: CliRun[] = [];
  const track = (run: CliRun) => {
    runs.push(run);
    return run;
  };
  const killAll = () => runs.forEach((run) => run.kill("SIGKILL"));
  signal.addEventListener("abort", killAll, { once: true });
  const dispose = async () => {
    signal.removeEventListener("abort", killAll);
    killAll();
    await Promise.all(runs.map((run) => run.finished()));
    await Deno.remove(dir, { recursive: true });
  };
  try {
    const serve = track(spawnCli(["serve", "--host", "127.0.0.1", "--port", "0", "--json"]));
    const { port } = await serve.next(
      "listening",
      AbortSignal.any([
        signal,
        AbortSignal.timeout(20_000),
      ]),
    );
    return {
      dir,
      server: `127.0.0.1:${port}`,
      rendezvous: ["--rendezvous", `127.0.0.1:${port}`, "--no-local"],
      serve,
      spawnCli: (args, options) => track(spawnCli(args, { cwd: dir, ...options })),
      spawnScript: (script, args) => track(spawnScript(script, args)),
      [Symbol.asyncDispose]: dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** Names in a directory, sorted. */
export async function listDir(path: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(path)) names.push(entry.name);
  return names.sort();
}
