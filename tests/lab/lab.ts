/**
 * A network lab of Linux network namespaces: a public internet router, a
 * rendezvous host and two NATed home networks, with optional delay, loss and
 * rate limits on the public links. See tests/lab/README.md.
 */
import { labAvailable } from "./available.ts";
import type { LabAddresses } from "./_addresses.ts";
import { type DelayLinePlan, type LabOptions, type LabPlan, newLabId, planLab } from "./_plan.ts";
import {
  listNamespaces,
  mustRun,
  netnsEtc,
  removeNamespaces,
  runCommand,
  type RunResult,
} from "./_run.ts";

/** How a process spawned in the lab connects its standard streams. */
export interface LabSpawnOptions {
  env?: Record<string, string>;
  cwd?: string;
  stdin?: "piped" | "inherit" | "null";
  stdout?: "piped" | "inherit" | "null";
  stderr?: "piped" | "inherit" | "null";
}

/** Output of `Lab.exec`. */
export type LabExecResult = RunResult;

/** A running lab; dispose it (`await using`) to remove every namespace and process. */
export interface Lab extends LabAddresses, AsyncDisposable {
  /** Run id, part of every namespace name (`p2l-<id>-<role>`). */
  readonly id: string;
  /** Every namespace of this lab. */
  readonly namespaces: readonly string[];
  /** PIDs of the helper processes (delay lines) and of processes started with `spawn`. */
  pids(): number[];
  /** Starts `cmd` inside namespace `ns`; killed when the lab is disposed. Default stdout/stderr: piped. */
  spawn(ns: string, cmd: string[], options?: LabSpawnOptions): Deno.ChildProcess;
  /** Runs `cmd` inside namespace `ns` to completion. */
  exec(
    ns: string,
    cmd: string[],
    options?: { stdin?: string; signal?: AbortSignal },
  ): Promise<LabExecResult>;
}

const DELAY_LINE = new URL("./delay_line.py", import.meta.url).pathname;
const KILL_GRACE_MS = 2_000;

interface Tracked {
  child: Deno.ChildProcess;
  piped: { stdin: boolean; stdout: boolean; stderr: boolean };
}

class RunningLab implements Lab {
  readonly id: string;
  readonly namespaces: readonly string[];
  readonly internet: LabAddresses["internet"];
  readonly rendezvous: LabAddresses["rendezvous"];
  readonly hostA: LabAddresses["hostA"];
  readonly hostA2: LabAddresses["hostA2"];
  readonly hostB: LabAddresses["hostB"];
  readonly routerA: LabAddresses["routerA"];
  readonly routerB: LabAddresses["routerB"];
  #children = new Set<Tracked>();
  #disposed = false;

  constructor(plan: LabPlan) {
    this.id = plan.id;
    this.namespaces = plan.namespaces.map((ns) => ns.name);
    this.internet = plan.internet;
    this.rendezvous = plan.rendezvous;
    this.hostA = plan.hostA;
    this.hostA2 = plan.hostA2;
    this.hostB = plan.hostB;
    this.routerA = plan.routerA;
    this.routerB = plan.routerB;
  }

  pids(): number[] {
    return [...this.#children].map((tracked) => tracked.child.pid);
  }

  spawn(ns: string, cmd: string[], options: LabSpawnOptions = {}): Deno.ChildProcess {
    this.#checkNamespace(ns);
    if (cmd.length === 0) throw new TypeError(`Cannot spawn in ${ns}: the command is empty`);
    const stdin = options.stdin ?? "null";
    const stdout = options.stdout ?? "piped";
    const stderr = options.stderr ?? "piped";
    const child = new Deno.Command("ip", {
      args: ["netns", "exec", ns, ...cmd],
      env: options.env,
      cwd: options.cwd,
      stdin,
      stdout,
      stderr,
    }).spawn();
    const tracked: Tracked = {
      child,
      piped: { stdin: stdin === "piped", stdout: stdout === "piped", stderr: stderr === "piped" },
    };
    this.#children.add(tracked);
    return child;
  }

  exec(
    ns: string,
    cmd: string[],
    options: { stdin?: string; signal?: AbortSignal } = {},
  ): Promise<LabExecResult> {
    this.#checkNamespace(ns);
    return runCommand("ip", ["netns", "exec", ns, ...cmd], options);
  }

  /** Starts the delay line of one wire namespace and waits until it has opened its sockets. */
  async startDelayLine(line: DelayLinePlan, signal?: AbortSignal): Promise<void> {
    const python = findPython();
    const child = this.spawn(line.ns, [
      python,
      DELAY_LINE,
      line.ifA,
      line.ifB,
      String(line.delayMs),
    ], { stdout: "piped", stderr: "inherit" });
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const timeout = AbortSignal.timeout(5_000);
    const abort = AbortSignal.any(signal ? [signal, timeout] : [timeout]);
    const onAbort = () => reader.cancel().catch(() => {});
    abort.addEventListener("abort", onAbort, { once: true });
    let seen = "";
    try {
      while (!seen.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += value;
      }
    } finally {
      abort.removeEventListener("abort", onAbort);
      await reader.cancel().catch(() => {});
    }
    if (seen.trim() !== "ready") {
      throw new Error(
        `Cannot start delay line in ${line.ns}: expected "ready" on stdout, got ${
          JSON.stringify(seen)
        }${abort.aborted ? " before the deadline" : ""}`,
      );
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await Promise.all([...this.#children].map(stopChild));
    this.#children.clear();
    await removeNamespaces([...this.namespaces]);
    const left = (await listNamespaces()).filter((name) => this.namespaces.includes(name));
    if (left.length > 0) {
      throw new Error(`Cannot dispose lab ${this.id}: namespaces left behind: ${left.join(", ")}`);
    }
  }

  #checkNamespace(ns: string): void {
    if (this.#disposed) throw new Error(`Cannot use lab ${this.id}: it has been disposed`);
    if (!this.namespaces.includes(ns)) {
      throw new TypeError(
        `Cannot run in namespace ${JSON.stringify(ns)}: not part of lab ${this.id}`,
      );
    }
  }
}

async function stopChild({ child, piped }: Tracked): Promise<void> {
  let exited = false;
  const status = child.status.then(() => {
    exited = true;
  });
  try {
    child.kill("SIGTERM");
  } catch {
    // already exited
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    status,
    new Promise<void>((resolve) => timer = setTimeout(resolve, KILL_GRACE_MS)),
  ]);
  clearTimeout(timer);
  if (!exited) {
    try {
      child.kill("SIGKILL");
    } catch {
      // exited meanwhile
    }
    await status;
  }
  const streams = [
    piped.stdin ? child.stdin : undefined,
    piped.stdout ? child.stdout : undefined,
    piped.stderr ? child.stderr : undefined,
  ];
  for (const stream of streams) {
    if (!stream || stream.locked) continue;
    if (stream instanceof WritableStream) await stream.close().catch(() => {});
    else await stream.cancel().catch(() => {});
  }
}

let pythonPath: string | undefined;

/** The Python 3 interpreter that runs the delay line (`/usr/bin/python3` when present). */
function findPython(): string {
  pythonPath ??= ["/usr/bin/python3", "/usr/local/bin/python3"].find((candidate) => {
    try {
      return Deno.statSync(candidate).isFile;
    } catch {
      return false;
    }
  }) ?? "python3";
  return pythonPath;
}

/**
 * Creates the lab described by `options` and returns it running. On any error (or abort) every
 * namespace created so far is removed before the error propagates.
 */
export async function createLab(options: LabOptions): Promise<Lab> {
  const available = await labAvailable();
  if (!available.ok) throw new Error(`The network lab cannot run here: ${available.reason}`);
  const plan = planLab(newLabId(), options);
  const signal = options.signal;
  signal?.throwIfAborted();
  const lab = new RunningLab(plan);
  try {
    await build(lab, plan, signal);
    return lab;
  } catch (error) {
    await lab[Symbol.asyncDispose]().catch(() => {});
    throw error;
  }
}

async function build(lab: RunningLab, plan: LabPlan, signal?: AbortSignal): Promise<void> {
  const stdin = (lines: string[]) => lines.map((line) => line + "\n").join("");
  await mustRun("ip", ["-batch", "-"], {
    stdin: stdin(plan.namespaces.map((ns) => `netns add ${ns.name}`)),
    signal,
  });
  await Promise.all(plan.namespaces.map(async (ns) => {
    await Deno.mkdir(netnsEtc(ns.name), { recursive: true });
    await Deno.writeTextFile(`${netnsEtc(ns.name)}/hosts`, plan.hosts);
  }));
  await Promise.all(plan.namespaces.map((ns) =>
    // -e: a key that does not exist here (bridge-nf-call-iptables without br_netfilter) is skipped.
    mustRun("ip", ["netns", "exec", ns.name, "sysctl", "-q", "-e", "-w", ...ns.sysctls], {
      signal,
    })
  ));
  await mustRun("ip", ["-batch", "-"], {
    stdin: stdin(
      plan.veths.map(([a, b]) =>
        `link add name ${a.ifname} netns ${a.ns} type veth peer name ${b.ifname} netns ${b.ns}`
      ),
    ),
    signal,
  });
  await Promise.all(plan.namespaces.map(async (ns) => {
    await mustRun("ip", ["-n", ns.name, "-batch", "-"], { stdin: stdin(ns.ip), signal });
    if (ns.tc.length > 0) {
      await mustRun("tc", ["-n", ns.name, "-batch", "-"], { stdin: stdin(ns.tc), signal });
    }
    if (ns.nft) {
      await mustRun("ip", ["netns", "exec", ns.name, "nft", "-f", "-"], { stdin: ns.nft, signal });
    }
  }));
  await Promise.all(plan.delayLines.map((line) => lab.startDelayLine(line, signal)));
  signal?.throwIfAborted();
}
