/**
 * The NAT lab's scenario harness, shared by tests/nat_test.ts, tests/nat_lan_relay_test.ts and
 * tests/ipv6_lab_test.ts: the real CLI (rendezvous server, sender, receiver) in network namespaces
 * behind emulated home routers. Every run checks the received bytes' SHA-256 and the `connected`
 * event's path.
 */
import assert from "node:assert/strict";
import { boundedTest } from "./bounded.ts";
import { type CliRun, spawnCli } from "../scripts/cli_process.ts";
import { makeRandomFile, sha256File } from "../scripts/files.ts";
import { createLab, type Lab, type LabOptions, labSkip } from "./lab/mod.ts";

const skip = await labSkip();
/** The port `serve` listens on in the lab (TCP relay on +2). */
export const RENDEZVOUS_PORT = 9000;

/** One transfer through the lab, and the lab it runs in. */
export interface Scenario {
  lab: Omit<LabOptions, "signal">;
  /** Which lab hosts send and receive (default hostA → hostB). */
  sender?: "hostA" | "hostB" | "hostA2";
  receiver?: "hostA" | "hostB" | "hostA2";
  size?: number;
  /** Exact bytes to send (instead of `size` random bytes). */
  payload?: Uint8Array;
  /** Start the receiver this long after the sender printed its code. */
  receiverDelayMs?: number;
  senderArgs?: string[];
  receiverArgs?: string[];
  serveArgs?: string[];
  /** `serve --host` (default `0.0.0.0`); `null`: no `--host`, the server's own default. */
  serveHost?: string | null;
  /** What the peers pass as `--rendezvous` (default `<rendezvous ip>:9000`). */
  rendezvous?: (lab: Lab) => string;
}

/** Both sides' exits and events, and the SHA-256 of what was sent and of what arrived. */
export interface Outcome {
  sender: Awaited<ReturnType<CliRun["finished"]>>;
  receiver: Awaited<ReturnType<CliRun["finished"]>>;
  expected: string;
  received?: string;
  lab: Lab;
}

/** A lab test whose deadline aborts `signal`: the lab and every child then go away. */
export function labTest(
  name: string,
  timeoutMs: number,
  fn: (signal: AbortSignal) => Promise<void>,
) {
  boundedTest(`${name}${skip.note}`, fn, {
    timeoutMs,
    ignore: skip.ignore,
    sanitizeResources: false, // child process pipes of killed processes close asynchronously
  });
}

/** A running lab with its rendezvous server. */
export interface LabRun {
  lab: Lab;
  /** One send/receive through the running lab, into a fresh folder. */
  transfer(
    scenario: Omit<Scenario, "lab" | "serveArgs" | "serveHost" | "rendezvous">,
  ): Promise<Outcome>;
}

/** How the lab and its server are set up. */
export type LabSetup = Pick<Scenario, "lab" | "serveArgs" | "serveHost" | "rendezvous">;

/** Builds the lab and starts a rendezvous server in it; everything is gone afterwards. */
export async function withLab(
  signal: AbortSignal,
  setup: LabSetup,
  fn: (run: LabRun) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "p2pft-nat-" });
  const runs: CliRun[] = [];
  // A child waited on (finished, next) ends when killed, so the test unwinds on abort.
  const killAll = () => runs.forEach((run) => run.kill("SIGKILL"));
  signal.addEventListener("abort", killAll, { once: true });
  try {
    const building = AbortSignal.any([signal, AbortSignal.timeout(60_000)]);
    await using lab = await createLab({ ...setup.lab, signal: building });
    const spawn = (ns: string, args: string[]) => {
      signal.throwIfAborted();
      const run = spawnCli(args, { wrapper: ["ip", "netns", "exec", ns], cwd: dir });
      runs.push(run);
      return run;
    };
    const serveHost = setup.serveHost === undefined ? "0.0.0.0" : setup.serveHost;
    const server = spawn(lab.rendezvous.ns, [
      "serve",
      ...(serveHost === null ? [] : ["--host", serveHost]),
      "--port",
      String(RENDEZVOUS_PORT),
      "--json",
      ...(setup.serveArgs ?? []),
    ]);
    await server.next("listening");
    const address = setup.rendezvous?.(lab) ?? `${lab.rendezvous.ip}:${RENDEZVOUS_PORT}`;
    const rendezvous = ["--rendezvous", address, "--json"];
    let count = 0;
    await fn({
      lab,
      async transfer(scenario) {
        const work = `${dir}/run-${++count}`;
        await Deno.mkdir(`${work}/in`, { recursive: true });
        const source = `${work}/payload.bin`;
        if (scenario.payload) await Deno.writeFile(source, scenario.payload);
        else await makeRandomFile(source, scenario.size ?? 2 * 1024 * 1024);
        const expected = await sha256File(source);
        const sender = spawn(lab[scenario.sender ?? "hostA"].ns, [
          "send",
          source,
          ...rendezvous,
          ...(scenario.senderArgs ?? []),
        ]);
        const { code } = await sender.next("code");
        if (scenario.receiverDelayMs) {
          await new Promise((resolve) => setTimeout(resolve, scenario.receiverDelayMs));
        }
        const receiver = spawn(lab[scenario.receiver ?? "hostB"].ns, [
          "receive",
          String(code),
          "--out",
          `${work}/in`,
          "--yes",
          ...rendezvous,
          ...(scenario.receiverArgs ?? []),
        ]);
        const [sent, received] = await Promise.all([sender.finished(), receiver.finished()]);
        const target = `${work}/in/payload.bin`;
        const hasFile = await Deno.stat(target).then(() => true, () => false);
        return {
          sender: sent,
          receiver: received,
          expected,
          received: hasFile ? await sha256File(target) : undefined,
          lab,
        };
      },
    });
  } finally {
    signal.removeEventListener("abort", killAll);
    killAll();
    await Promise.all(runs.map((run) => run.finished()));
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs one transfer through a fresh lab and checks it. */
export function runScenario(
  signal: AbortSignal,
  scenario: Scenario,
  check: (outcome: Outcome) => void | Promise<void>,
): Promise<void> {
  return withLab(signal, scenario, async (run) => await check(await run.transfer(scenario)));
}

/** The first event of `type` a run printed. */
export function event(run: Outcome["sender"], type: string) {
  return run.events.find((e) => e.type === type);
}

/**
 * Both sides exit 0, the bytes match, and both report `path` and the
 * transport it gets by default: TLS over TCP on the LAN and through the
 * relay, QUIC on a punched public path (peer/PROTOCOL.md, "Transport choice").
 */
export function assertDelivered(
  outcome: Outcome,
  path: string,
  transport = path === "direct" ? "quic" : "tcp",
): void {
  assert.equal(outcome.sender.code, 0, `sender: ${outcome.sender.stderr}`);
  assert.equal(outcome.receiver.code, 0, `receiver: ${outcome.receiver.stderr}`);
  assert.equal(outcome.received, outcome.expected);
  for (const run of [outcome.sender, outcome.receiver]) {
    const connected = JSON.stringify(event(run, "connected"));
    assert.equal(event(run, "connected")?.path, path, connected);
    assert.equal(event(run, "connected")?.transport, transport, connected);
    assert.equal(event(run, "done")?.sha256, outcome.expected);
  }
}
