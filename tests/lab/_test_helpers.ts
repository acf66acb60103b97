/** Helpers for the lab's own tests: run the tiny UDP scripts inside lab namespaces. */
import type { Lab } from "./lab.ts";

const ECHO = new URL("./udp_echo.ts", import.meta.url).pathname;
const PROBE = new URL("./udp_probe.ts", import.meta.url).pathname;

/** `deno run` of a lab script that imports nothing from a registry. */
export function denoScript(script: "echo" | "probe", args: string[]): string[] {
  return [
    Deno.execPath(),
    "run",
    "--quiet",
    "--no-config",
    "--no-lock",
    "--unstable-net",
    "--allow-net",
    script === "echo" ? ECHO : PROBE,
    ...args,
  ];
}

/** A running `udp_echo.ts`; dispose it to stop reading its output. */
export interface Echo extends AsyncDisposable {
  /** Where it listens. */
  address: string;
  /** Waits for its next line of the given type. */
  next(type: "mapped" | "probe", signal: AbortSignal): Promise<Record<string, string>>;
}

/** Starts `udp_echo.ts` in `ns` and waits until it listens. */
export async function startEcho(
  lab: Lab,
  ns: string,
  options: { bind: string; prime?: string; signal: AbortSignal },
): Promise<Echo> {
  const args = ["--bind", options.bind, ...(options.prime ? ["--prime", options.prime] : [])];
  const child = lab.spawn(ns, denoScript("echo", args), { stderr: "null" });
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const next = async (type: string, signal: AbortSignal) => {
    const cancel = () => reader.cancel().catch(() => {});
    signal.addEventListener("abort", cancel, { once: true });
    try {
      while (true) {
        const newline = buffered.indexOf("\n");
        if (newline >= 0) {
          const line = JSON.parse(buffered.slice(0, newline));
          buffered = buffered.slice(newline + 1);
          if (line.type === type) return line;
          continue;
        }
        const { value, done } = await reader.read();
        if (done) {
          throw new Error(
            `udp_echo in ${ns} ended before a "${type}" line: ${signal.reason ?? ""}`,
          );
        }
        buffered += value;
      }
    } finally {
      signal.removeEventListener("abort", cancel);
    }
  };
  const ready = await next("ready", options.signal);
  return {
    address: ready.address,
    next,
    async [Symbol.asyncDispose]() {
      await reader.cancel().catch(() => {});
    },
  };
}

/** What `udp_probe.ts` saw: target -> the address it observed for us, or null. */
export async function probe(
  lab: Lab,
  ns: string,
  targets: string[],
  options: { bind?: string; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<{ local: string; observed: (string | null)[] }> {
  const args = [
    ...(options.bind ? ["--bind", options.bind] : []),
    "--timeout",
    String(options.timeoutMs ?? 1_500),
    ...targets,
  ];
  const result = await lab.exec(ns, denoScript("probe", args), { signal: options.signal });
  if (result.code !== 0) {
    throw new Error(`udp_probe in ${ns} failed (exit ${result.code}): ${result.stderr}`);
  }
  const report = JSON.parse(result.stdout);
  return {
    local: report.local,
    observed: report.results.map((r: { observed: string | null }) => r.observed),
  };
}

/** Port of an `ip:port` string. */
export function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(":") + 1));
}

/** Host of an `ip:port` string. */
export function hostOf(address: string): string {
  return address.slice(0, address.lastIndexOf(":"));
}

/** Round-trip times (min/avg/max ms) of `count` pings from `ns` to `ip`, and how many were lost. */
export async function ping(
  lab: Lab,
  ns: string,
  ip: string,
  options: { count: number; intervalS: number; signal?: AbortSignal },
): Promise<{ min: number; avg: number; max: number; sent: number; lost: number }> {
  const result = await lab.exec(ns, [
    "ping",
    "-n",
    "-q",
    "-c",
    String(options.count),
    "-i",
    String(options.intervalS),
    "-W",
    "1",
    ip,
  ], { signal: options.signal });
  const done = /(\d+) packets transmitted, (\d+) received/.exec(result.stdout);
  if (!done) throw new Error(`Cannot parse ping output from ${ns}: ${result.stdout}`);
  const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)/.exec(result.stdout);
  return {
    min: rtt ? Number(rtt[1]) : NaN,
    avg: rtt ? Number(rtt[2]) : NaN,
    max: rtt ? Number(rtt[3]) : NaN,
    sent: Number(done[1]),
    lost: Number(done[1]) - Number(done[2]),
  };
}
