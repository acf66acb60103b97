/**
 * What every end-to-end test needs: a temp dir, a real `serve` process on
 * 127.0.0.1, and child processes that are all killed (by PID) and awaited on
 * dispose or when the test's time is up.
 */
import assert from "node:assert/strict";
import { sha256File } from "../scripts/files.ts";
import {
  type CliRun,
  spawnCli,
  type SpawnCliOptions,
  spawnJsonLines,
  spawnScript,
} from "../scripts/cli_process.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** A shell word for `script -c`. */
function quoted(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

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
  /** `send PATHS… --rendezvous 127.0.0.1:PORT --no-local … --json`, then `extra`. */
  send(paths: string[], extra?: string[], options?: PeerSpawnOptions): CliRun;
  /** `receive CODE --out DIR/in --yes --rendezvous 127.0.0.1:PORT --no-local … --json`, then `extra`. */
  receive(code: string, extra?: string[], options?: PeerSpawnOptions): CliRun;
  /**
   * `receive CODE --out OUT` without --yes on a terminal (a pty from `script`): the person's
   * view, each output line an event `{ line }`; its stdin is what they type.
   */
  receiveOnTerminal(code: string, out: string): CliRun;
  /** `main.ts ARGS` on a terminal of its own (`script`); its keys go to the run's stdin. */
  onTerminal(args: string[]): CliRun;
  /**
   * A whole transfer: `send` waits for its code, `receive` takes it, and both
   * run to their exit. `DIR/in` must exist.
   */
  transfer(paths: string[], options?: TransferOptions): Promise<Transfer>;
}

export interface PeerSpawnOptions extends SpawnCliOptions {
  /** Instead of `World.rendezvous`. */
  rendezvous?: string[];
  /** The receiver's `--out` (default `DIR/in`). */
  out?: string;
}

export interface TransferOptions {
  /** Flags for both sides. */
  both?: string[];
  /** Flags for the sender only. */
  send?: string[];
  /** Flags for the receiver only. */
  receive?: string[];
  /** Instead of `World.rendezvous`, on both sides. */
  rendezvous?: string[];
  /** The code the receiver types, from the one the sender printed (default: the same). */
  typed?: (code: string) => string;
  signal?: AbortSignal;
}

export interface Transfer {
  /** The code the sender printed. */
  code: string;
  sender: CliRun;
  receiver: CliRun;
  sent: Finished;
  received: Finished;
}

export type Finished = Awaited<ReturnType<CliRun["finished"]>>;

/** The sender's nameplate with words that are not the sender's: a code mismatch. */
export function wrongWords(code: string): string {
  const nameplate = code.split("-")[0];
  return `${nameplate}-${code.endsWith("-zoo") ? "abandon" : "zoo"}-zoo`;
}

/** Each run exited 0 (its stderr is the message when not). */
export function assertSucceeded(...runs: Finished[]): void {
  for (const run of runs) assert.equal(run.code, 0, run.stderr);
}

/** Waits for both ends of a transfer to exit and asserts both exited 0. */
export async function bothSucceed(sender: CliRun, receiver: CliRun): Promise<[Finished, Finished]> {
  const [sent, received] = await Promise.all([sender.finished(), receiver.finished()]);
  assertSucceeded(sent, received);
  return [sent, received];
}

/** `received` holds the same bytes as `source`. */
export async function assertSameFile(received: string, source: string): Promise<void> {
  assert.equal(await sha256File(received), await sha256File(source), `${received} vs ${source}`);
}

/**
 * Starts `main.ts serve --host 127.0.0.1 --port 0` (and `options.serve`). When `signal` aborts
 * (the test's time is up), every process is killed at once.
 */
export async function world(
  signal: AbortSignal,
  options: { serve?: string[] } = {},
): Promise<World> {
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
    const serve = track(
      spawnCli(["serve", "--host", "127.0.0.1", "--port", "0", "--json", ...options.serve ?? []]),
    );
    const { port } = await serve.next(
      "listening",
      AbortSignal.any([
        signal,
        AbortSignal.timeout(20_000),
      ]),
    );
    const spawn = (args: string[], options?: SpawnCliOptions) =>
      track(spawnCli(args, { cwd: dir, ...options }));
    const rendezvous = ["--rendezvous", `127.0.0.1:${port}`, "--no-local"];
    const send = (paths: string[], extra: string[] = [], options: PeerSpawnOptions = {}) =>
      spawn(["send", ...paths, ...options.rendezvous ?? rendezvous, ...extra, "--json"], options);
    const receive = (code: string, extra: string[] = [], options: PeerSpawnOptions = {}) =>
      spawn([
        "receive",
        code,
        "--out",
        options.out ?? `${dir}/in`,
        "--yes",
        ...options.rendezvous ?? rendezvous,
        ...extra,
        "--json",
      ], options);
    const onTerminal = (args: string[]) => {
      const line = [Deno.execPath(), "run", "-A", MAIN, ...args].map(quoted).join(" ");
      return track(
        spawnJsonLines(["script", "-qefc", line, "/dev/null"], { cwd: dir, stdin: "piped" }),
      );
    };
    return {
      dir,
      server: `127.0.0.1:${port}`,
      rendezvous,
      serve,
      spawnCli: spawn,
      spawnScript: (script, args) => track(spawnScript(script, args)),
      send,
      receive,
      receiveOnTerminal: (code, out) => onTerminal(["receive", code, "--out", out, ...rendezvous]),
      onTerminal,
      async transfer(paths, options = {}) {
        const both = options.both ?? [];
        const spawnOptions = { rendezvous: options.rendezvous };
        const sender = send(paths, [...both, ...options.send ?? []], spawnOptions);
        const code = String((await sender.next("code", options.signal)).code);
        const typed = options.typed?.(code) ?? code;
        const receiver = receive(typed, [...both, ...options.receive ?? []], spawnOptions);
        const [sent, received] = await Promise.all([sender.finished(), receiver.finished()]);
        return { code, sender, receiver, sent, received };
      },
      [Symbol.asyncDispose]: dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/**
 * `send PATHS`, and a receiver of its code on a terminal (into DIR/in) run until it shows a line
 * with `shown` in it: the offer's lines come just before its prompt (which ends no line).
 * `keys` are what the person types.
 */
export async function sendToPrompt(
  w: World,
  paths: string[],
  shown: string,
  signal: AbortSignal,
): Promise<{ sender: CliRun; receiver: CliRun; keys: WritableStreamDefaultWriter<Uint8Array> }> {
  const sender = w.send(paths);
  const { code } = await sender.next("code", signal);
  const receiver = w.receiveOnTerminal(String(code), `${w.dir}/in`);
  await receiver.until((event) => String(event.line ?? "").includes(shown), signal);
  return { sender, receiver, keys: receiver.stdin!.getWriter() };
}

/** Names in a directory, sorted. */
export async function listDir(path: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(path)) names.push(entry.name);
  return names.sort();
}
