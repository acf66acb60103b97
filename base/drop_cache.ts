/**
 * Drops a file's clean pages from the page cache: posix_fadvise(POSIX_FADV_DONTNEED),
 * which Deno 2.9 does not expose, through GNU dd (`iflag=nocache count=0`: the
 * whole file, read-only open, nothing read or written) in a process of its own,
 * as transfer/_publish.ts runs `sync -f` for syncfs(2). Only clean (synced) pages
 * go; dirty ones stay. Why a receiver does it: transfer/_partial_file.ts.
 */

/** The program run for posix_fadvise(2); allowed by scripts/permissions.ts. */
const DD = "dd";

/** Whether `dd` may be run here: Linux, the permission, and no run of it failed yet. */
let works: boolean | undefined;

/** Linux, and this process may run `dd`. */
function mayRunDd(): boolean {
  if (Deno.build.os !== "linux") return false;
  return Deno.permissions.querySync({ name: "run", command: DD }).state === "granted";
}

/**
 * Asks the kernel to forget `path`'s clean cached pages. Never throws: where
 * `dd` is missing, refused, or has no `iflag=nocache` (busybox), it is not
 * tried again in this process, and the file is only cached longer.
 */
export async function dropCleanPages(path: string): Promise<void> {
  works ??= mayRunDd();
  if (!works) return;
  try {
    const { success } = await new Deno.Command(DD, {
      args: [`if=${path}`, "iflag=nocache", "count=0", "status=none"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    if (!success) works = false;
  } catch {
    works = false;
  }
}
