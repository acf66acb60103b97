/**
 * `deno task install [--root DIR]`: puts a `p2pft` command in DIR/bin that runs
 * this checkout's main.ts with exactly the flags in scripts/permissions.ts
 * (never -A). DIR defaults to $DENO_INSTALL_ROOT, else ~/.deno, as for
 * `deno install -g`. The command is then run once with `--version` to prove it works.
 */
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { P2PFT_FLAGS } from "./permissions.ts";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const USAGE = "usage: deno task install [--root DIR]";

/** Where `deno install -g` puts commands when no --root is given. */
function defaultRoot(): string {
  const fromEnv = Deno.env.get("DENO_INSTALL_ROOT");
  if (fromEnv) return fromEnv;
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
  if (!home) throw new Error("Cannot find a home directory: set DENO_INSTALL_ROOT or pass --root");
  return join(home, ".deno");
}

/** The shim `deno install -g` writes for `name` under `root`. */
export function installedCommand(root: string, name = "p2pft"): string {
  return join(root, "bin", Deno.build.os === "windows" ? `${name}.cmd` : name);
}

/** Runs `deno install -g` for main.ts into `root`; throws with deno's own message on failure. */
export async function installP2pft(root: string): Promise<string> {
  const args = [
    "install",
    "--global",
    "--force",
    "--name",
    "p2pft",
    "--root",
    root,
    // A global install ignores the project's config unless told: the import
    // map, the lockfile and `"unstable": ["net"]` live there.
    "--config",
    join(REPO, "deno.json"),
    ...P2PFT_FLAGS,
    join(REPO, "main.ts"),
  ];
  const result = await new Deno.Command(Deno.execPath(), {
    args,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) {
    const detail = new TextDecoder().decode(result.stderr).trim().split("\n").slice(-3).join(" ");
    throw new Error(`deno install failed (exit ${result.code}): ${detail}`);
  }
  return installedCommand(root);
}

function onPath(dir: string): boolean {
  const path = Deno.env.get("PATH") ?? "";
  return path.split(delimiter).some((entry) => entry.replace(/[\\/]+$/, "") === dir);
}

/** True when some PATH entry holds a `deno` executable (what the shim runs). */
async function denoOnPath(): Promise<boolean> {
  const names = Deno.build.os === "windows" ? ["deno.exe", "deno.cmd"] : ["deno"];
  for (const dir of (Deno.env.get("PATH") ?? "").split(delimiter).filter(Boolean)) {
    for (const name of names) {
      const info = await Deno.stat(join(dir, name)).catch(() => null);
      if (info?.isFile) return true;
    }
  }
  return false;
}

async function main(argv: string[]): Promise<number> {
  let root: string;
  try {
    const { values } = parseArgs({ args: argv, options: { root: { type: "string" } } });
    root = values.root ?? defaultRoot();
  } catch (error) {
    console.error(`error: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  let command: string;
  try {
    command = await installP2pft(root);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  }
  // The shim runs `deno` from PATH; check it with the deno running this script.
  const denoDir = dirname(Deno.execPath());
  const version = await new Deno.Command(command, {
    args: ["--version"],
    env: { PATH: [denoDir, Deno.env.get("PATH") ?? ""].join(delimiter) },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  if (!version.success) {
    console.error(
      `error: installed ${command}, but \`p2pft --version\` failed: ${
        decoder.decode(version.stderr).trim()
      }`,
    );
    return 1;
  }
  console.log(`Installed ${decoder.decode(version.stdout).trim()} as ${command}`);
  console.log(`It runs ${join(REPO, "main.ts")} with: ${P2PFT_FLAGS.join(" ")}`);
  const binDir = dirname(command);
  if (!onPath(binDir)) {
    console.log(`Add it to your PATH: export PATH="${binDir}${delimiter}$PATH"`);
  }
  if (!(await denoOnPath())) {
    console.log(
      "The command runs `deno` from your PATH and there is none: install Deno " +
        `(for example \`npm install -g deno@2.9.6\`) or add ${denoDir} to your PATH.`,
    );
  }
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
