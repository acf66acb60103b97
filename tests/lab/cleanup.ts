/**
 * Removes lab namespaces left behind by runs that died (kill -9, power loss).
 *
 *   deno run -A tests/lab/cleanup.ts         # namespaces whose creating process is gone
 *   deno run -A tests/lab/cleanup.ts --all   # every p2l- namespace, even of a live run
 *
 * Every process inside such a namespace is killed first (SIGKILL), then the namespace is deleted,
 * which also removes its veths, qdiscs and nftables tables.
 */
import { LAB_PREFIX } from "./_plan.ts";
import { listNamespaces, removeNamespaces } from "./_run.ts";

/** What `cleanupLabs` removes. */
export interface CleanupOptions {
  /** Also remove namespaces of runs whose process is still alive. */
  all?: boolean;
}

/** What `cleanupLabs` did. */
export interface CleanupReport {
  removed: string[];
  /** Namespaces kept because the run that created them is still alive. */
  kept: string[];
}

/** Deletes leftover `p2l-<pid>-<rand>-<role>` namespaces (see the module comment). */
export async function cleanupLabs(options: CleanupOptions = {}): Promise<CleanupReport> {
  const ours = (await listNamespaces()).filter((name) => name.startsWith(LAB_PREFIX));
  const removed: string[] = [];
  const kept: string[] = [];
  for (const name of ours) {
    const pid = Number(name.slice(LAB_PREFIX.length).split("-")[0]);
    if (!options.all && pid !== Deno.pid && processAlive(pid)) kept.push(name);
    else removed.push(name);
  }
  await removeNamespaces(removed);
  const left = new Set(await listNamespaces());
  const failed = removed.filter((name) => left.has(name));
  if (failed.length > 0) {
    throw new Error(`Cannot remove lab namespaces: still present: ${failed.join(", ")}`);
  }
  return { removed, kept };
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

if (import.meta.main) {
  const report = await cleanupLabs({ all: Deno.args.includes("--all") });
  console.log(
    `removed ${report.removed.length} lab namespace(s)${
      report.removed.length ? ": " + report.removed.join(", ") : ""
    }` +
      (report.kept.length ? `; kept ${report.kept.length} of live runs (use --all)` : ""),
  );
}
