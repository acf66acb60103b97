export function mainCpu(): number {
  const t = Deno.readTextFileSync(`/proc/self/task/${Deno.pid}/schedstat`);
  return Number(t.split(" ")[0]) / 1e6;
}
