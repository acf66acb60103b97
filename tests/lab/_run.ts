/** Runs one host command to completion and throws on a non-zero exit. */

/** Output of a finished command. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd args...`, feeding `stdin`; resolves with its output whatever the exit code. */
export async function runCommand(
  cmd: string,
  args: string[],
  options: { stdin?: string; signal?: AbortSignal } = {},
): Promise<RunResult> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    signal: options.signal,
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    try {
      await writer.write(new TextEncoder().encode(options.stdin));
    } finally {
      await writer.close().catch(() => {});
    }
  }
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Like `runCommand`, but throws when the command exits non-zero. */
export async function mustRun(
  cmd: string,
  args: string[],
  options: { stdin?: string; signal?: AbortSignal } = {},
): Promise<string> {
  const result = await runCommand(cmd, args, options);
  if (result.code !== 0) {
    const input = options.stdin ? ` with input:\n${options.stdin}` : "";
    throw new Error(
      `Cannot run "${[cmd, ...args].join(" ")}": exit code ${result.code}: ${
        result.stderr.trim() || result.stdout.trim()
      }${input}`,
    );
  }
  return result.stdout;
}

/** Namespace names currently known to `ip netns`. */
export async function listNamespaces(): Promise<string[]> {
  const out = await mustRun("ip", ["netns", "list"]);
  return out.split("\n").map((line) => line.trim().split(/\s+/)[0]).filter((name) => name);
}

/** PIDs of processes running in namespace `ns` (empty if it is gone). */
export async function namespacePids(ns: string): Promise<number[]> {
  const result = await runCommand("ip", ["netns", "pids", ns]);
  if (result.code !== 0) return [];
  return result.stdout.split(/\s+/).filter((s) => s).map(Number);
}

/** Kills every process in each namespace with SIGKILL, then deletes the namespaces. */
export async function removeNamespaces(names: string[]): Promise<void> {
  if (names.length === 0) return;
  for (const ns of names) {
    for (const pid of await namespacePids(ns)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  const batch = names.map((ns) => `netns delete ${ns}\n`).join("");
  await runCommand("ip", ["-force", "-batch", "-"], { stdin: batch });
  await Promise.all(
    names.map((ns) => Deno.remove(netnsEtc(ns), { recursive: true }).catch(() => {})),
  );
}

/** Files here replace their /etc namesakes for processes run with `ip netns exec NS`. */
export function netnsEtc(ns: string): string {
  return `/etc/netns/${ns}`;
}
