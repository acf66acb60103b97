/**
 * Spawns a helper script of this folder (`deno run -A script.ts ...`) as a
 * real child process and reads its JSON lines, with the same interface as
 * `spawnCli` (tests/cli_process.ts), which only runs main.ts.
 */
import { type CliRun, spawnJsonLines } from "../cli_process.ts";

const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

/** Starts `deno run -A script ...args`; stdout must be JSON lines. */
export function spawnScript(script: URL, args: string[]): CliRun {
  return spawnJsonLines([
    Deno.execPath(),
    "run",
    "-A",
    "--config",
    CONFIG,
    script.pathname,
    ...args,
  ]);
}
