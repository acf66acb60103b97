/**
 * `deno task test`: warms Deno's cache (the network lab's namespaces cannot
 * reach the registry), runs `deno test`, and ends with "N passed, N failed".
 * Extra arguments go to `deno test` (e.g. a file or `--filter`).
 */
const deno = Deno.execPath();
// Deno's own update check (a DNS query for dl.deno.land) must not leave the host from a test run;
// every process the tests start inherits this.
const env = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };

const cache = await new Deno.Command(deno, { args: ["cache", "main.ts"], env }).output();
if (!cache.success) {
  console.error(new TextDecoder().decode(cache.stderr));
  Deno.exit(1);
}

const args = Deno.args.length > 0 ? Deno.args : ["."];
const child = new Deno.Command(deno, {
  args: ["test", "-A", "--no-prompt", ...args],
  env,
  stdout: "piped",
  stderr: "inherit",
}).spawn();

let tail = "";
const decoder = new TextDecoder();
for await (const chunk of child.stdout) {
  await Deno.stdout.write(chunk);
  tail = (tail + decoder.decode(chunk, { stream: true })).slice(-4096);
}
const status = await child.status;
const summary = tail.match(/(\d+) passed.*?\| (\d+) failed(?:.*?\| (\d+) ignored)?/);
if (summary) {
  const ignored = summary[3] ? `, ${summary[3]} skipped` : "";
  console.log(`\n${summary[1]} passed, ${summary[2]} failed${ignored}`);
} else {
  console.log("\n0 passed, 1 failed (no test summary: deno test did not finish)");
}
Deno.exit(status.code === 0 && summary ? 0 : 1);
