/**
 * `deno task compile [TARGET...] [--out-dir DIR]`: builds
 * `dist/p2pft-<version>-<target>` (`.exe` for Windows) for the five
 * `deno compile --target` triples, with the flags in scripts/permissions.ts.
 *
 * `deno compile` needs a `denort` runtime per target, downloaded from
 * dl.deno.land and cached in DENO_DIR/dl. Before compiling, this script checks
 * (in at most a few seconds) that each one is cached or reachable; a machine that
 * cannot reach it gets one line saying so and exit 1, not a stack trace.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import denoJson from "../deno.json" with { type: "json" };
import { P2PFT_FLAGS } from "./permissions.ts";

/** The five release targets (`deno compile --target`). */
export const TARGETS: readonly string[] = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
];

const REPO = fileURLToPath(new URL("..", import.meta.url));
const PROBE_TIMEOUT_MS = 5_000;
const USAGE = `usage: deno task compile [TARGET...] [--out-dir DIR]  (targets: ${
  TARGETS.join(", ")
})`;

class CompileError extends Error {}

/** `p2pft-0.1.0-x86_64-pc-windows-msvc.exe`: the file `deno compile` writes for `target`. */
export function binaryName(target: string, version: string = denoJson.version): string {
  return `p2pft-${version}-${target}${target.includes("windows") ? ".exe" : ""}`;
}

function denortUrl(target: string): string {
  return `https://dl.deno.land/release/v${Deno.version.deno}/denort-${target}.zip`;
}

/** Deno's cache directory, as `deno info` reports it (honours DENO_DIR). */
async function denoCacheDir(): Promise<string> {
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "null",
  }).output();
  if (!info.success) throw new CompileError("`deno info --json` failed: cannot find DENO_DIR");
  return JSON.parse(new TextDecoder().decode(info.stdout)).denoDir;
}

/** Why denort for `target` cannot be had, or null when it is cached or downloadable. */
async function denortProblem(target: string, cacheDir: string): Promise<string | null> {
  if (Deno.env.get("DENORT_BIN")) return null;
  const cached = join(cacheDir, "dl", "release", `v${Deno.version.deno}`, `denort-${target}.zip`);
  if (await Deno.stat(cached).then(() => true, () => false)) return null;
  try {
    const response = await fetch(denortUrl(target), {
      method: "HEAD",
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    await response.body?.cancel();
    return response.ok ? null : `HTTP ${response.status}`;
  } catch (error) {
    if (error instanceof DOMException && error.name === "TimeoutError") {
      return `no answer in ${PROBE_TIMEOUT_MS / 1000} s`;
    }
    let cause: unknown = error;
    while (cause instanceof Error && cause.cause instanceof Error) cause = cause.cause;
    const message = cause instanceof Error ? cause.message.split("\n")[0] : String(cause);
    return message.replace(/^error sending request for url \([^)]*\): /, "")
      .replace(/^client error \(Connect\): /, "");
  }
}

function unreachable(target: string, reason: string): CompileError {
  return new CompileError(
    `deno compile needs to download denort for ${target} from dl.deno.land, which this ` +
      `machine cannot reach (${reason}); build releases on a machine with internet access ` +
      `(see README "Install")`,
  );
}

/** Runs `deno compile` for one target; a failure becomes one line. */
async function compileOne(target: string, outDir: string): Promise<string> {
  const output = join(outDir, binaryName(target).replace(/\.exe$/, ""));
  const result = await new Deno.Command(Deno.execPath(), {
    args: [
      "compile",
      "--target",
      target,
      "--output",
      output,
      "--config",
      join(REPO, "deno.json"),
      ...P2PFT_FLAGS,
      join(REPO, "main.ts"),
    ],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (result.success) return join(outDir, binaryName(target));
  const stderr = new TextDecoder().decode(result.stderr);
  if (
    /denort|dl\.deno\.land/.test(stderr) && /error sending request|dns error|connect/i.test(stderr)
  ) {
    throw unreachable(target, "download failed");
  }
  // deno's report: "error: WHAT", then "Caused by:" and one cause a line, then a backtrace.
  const lines = stderr.split("Stack backtrace:")[0].split("\n").map((line) => line.trim())
    .filter(Boolean);
  const what = lines.find((line) => line.startsWith("error:"))?.slice("error:".length).trim();
  const causes = lines.slice(lines.indexOf("Caused by:") + 1).map((line) =>
    line.replace(/^\d+: /, "")
  );
  const cause = lines.includes("Caused by:") ? causes.at(-1) : undefined;
  const detail = [what ?? `exit ${result.code}`, cause].filter(Boolean).join(": ");
  throw new CompileError(`deno compile --target ${target} failed: ${detail}`);
}

async function main(argv: string[]): Promise<number> {
  let targets: string[];
  let outDir: string;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { "out-dir": { type: "string" } },
      allowPositionals: true,
    });
    targets = positionals.length > 0 ? positionals : [...TARGETS];
    const unknown = targets.find((target) => !TARGETS.includes(target));
    if (unknown) throw new TypeError(`unknown target "${unknown}"`);
    outDir = values["out-dir"] ?? join(REPO, "dist");
  } catch (error) {
    console.error(`error: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  try {
    const cacheDir = await denoCacheDir();
    const problems = await Promise.all(targets.map((target) => denortProblem(target, cacheDir)));
    const index = problems.findIndex((problem) => problem !== null);
    if (index >= 0) throw unreachable(targets[index], problems[index]!);
    await Deno.mkdir(outDir, { recursive: true });
    for (const target of targets) {
      const file = await compileOne(target, outDir);
      const { size } = await Deno.stat(file);
      console.log(`${file} (${(size / 1e6).toFixed(1)} MB)`);
    }
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`error: ${message.split("\n")[0]}`);
    return 1;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
