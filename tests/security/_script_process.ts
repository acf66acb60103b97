/**
 * Spawns a helper script of this folder (`deno run -A script.ts ...`) as a
 * real child process and reads its JSON lines, with the same interface as
 * `spawnCli` (tests/cli_process.ts), which only runs main.ts.
 */
import type { CliEvent, CliRun } from "../cli_process.ts";

const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

/** Starts `deno run -A script ...args`; stdout must be JSON lines. */
export function spawnScript(script: URL, args: string[]): CliRun {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", CONFIG, script.pathname, ...args],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const events: CliEvent[] = [];
  const waiters: Array<() => void> = [];
  let stdout = "";
  let ended = false;
  const notify = () => waiters.splice(0).forEach((wake) => wake());
  const readStdout = (async () => {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of child.stdout) {
      const text = decoder.decode(chunk, { stream: true });
      stdout += text;
      pending += text;
      let newline;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        try {
          events.push(JSON.parse(line));
        } catch {
          events.push({ type: "non-json", line });
        }
        notify();
      }
    }
    ended = true;
    notify();
  })();
  const stderr = new Response(child.stderr).text();
  return {
    events,
    pid: child.pid,
    kill(signal: Deno.Signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
    },
    next(type, signal) {
      return this.until((event) => event.type === type, signal);
    },
    async until(test, signal) {
      while (true) {
        const found = events.find(test);
        if (found) return found;
        if (ended) {
          throw new Error(
            `${script.pathname} ended without the event awaited; events: ${
              JSON.stringify(events)
            }; stderr: ${await stderr}`,
          );
        }
        signal?.throwIfAborted();
        await new Promise<void>((resolve, reject) => {
          waiters.push(resolve);
          signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
        });
      }
    },
    async finished() {
      const [status] = await Promise.all([child.status, readStdout]);
      return { code: status.code, events, stderr: await stderr, stdout };
    },
  };
}
