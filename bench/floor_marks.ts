/**
 * Where the floors' time goes, step by step, from inside the processes: runs deno-floor,
 * deno-floor-node, deno-floor-pake and deno-floor-pake-warm (floor.tool's rows) RUNS times each,
 * interleaved, on loopback with FLOOR_MARKS set, and prints for each side the median, over the
 * runs, of each step's wall ms and main-thread CPU ms (from the step before; `start` from the
 * process's time origin), then its end, its main thread's CPU and its live threads' CPU (floor.ts,
 * `withMarks`). The receiver starts first, the sender at once after it, as in anchors.sh. Needs
 * openssl.
 *
 *   deno run -A bench/floor_marks.ts [RUNS]      (default 8)
 */
import { percentile } from "./_bench_util.ts";

const RUNS = Number(Deno.args[0] ?? 8);
const here = new URL(".", import.meta.url).pathname;
const FLOOR = `${here}floor.ts`;
const PAKE = [`${here}floor_pake.ts`];

/** One side's marks: each step's name, ms since start and main-thread CPU ms; its threads' CPU. */
interface Marks {
  steps: [string, number, number][];
  threads: number;
}

type Row = (dir: string, code: string, port: number) => { send: string[]; receive: string[] };

const ROWS: Record<string, Row> = {
  "deno-floor": (dir, code, port) => ({
    send: [FLOOR, "send", `${dir}/src`, code, `${port}`, `${dir}/cert.pem`, `${dir}/key.pem`],
    receive: [FLOOR, "receive", `${dir}/out`, code, `${port}`, `${dir}/cert.pem`],
  }),
  "deno-floor-node": (dir, code, port) => ({
    send: [FLOOR, "send-node", `${dir}/src`, code, `${port}`, `${dir}/cert.pem`, `${dir}/key.pem`],
    receive: [FLOOR, "receive-node", `${dir}/out`, code, `${port}`, `${dir}/cert.pem`],
  }),
  "deno-floor-pake": (dir, code, port) => ({
    send: [...PAKE, "send", `${dir}/src`, code, `${port}`],
    receive: [...PAKE, "receive", `${dir}/out`, code, `${port}`],
  }),
  "deno-floor-pake-warm": (dir, code, port) => ({
    send: [...PAKE, "send-warm", `${dir}/src`, code, `${port}`],
    receive: [...PAKE, "receive-warm", `${dir}/out`, code, `${port}`],
  }),
};

function side(args: string[], stderr: "piped" | "null" = "piped"): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...args],
    env: { FLOOR_MARKS: "1" },
    stdout: "null",
    stderr,
  }).spawn();
}

function stop(child: Deno.ChildProcess): void {
  try {
    child.kill();
  } catch {
    // It has exited.
  }
}

/** `side | step ms cpu | ... | threads cpu` (floor.ts, `withMarks`). */
async function marksOf(child: Deno.ChildProcess): Promise<Marks> {
  const { success, stderr } = await child.output();
  const line = new TextDecoder().decode(stderr).trim().split("\n").at(-1) ?? "";
  if (!success) throw new Error(`A floor side failed: ${line}`);
  const fields = line.split(" | ").slice(1).map((field) => field.split(" "));
  const threads = Number(fields.pop()![1]);
  return { steps: fields.map(([step, ms, cpu]) => [step, Number(ms), Number(cpu)]), threads };
}

function median(values: number[]): number {
  return percentile(values.toSorted((a, b) => a - b), 0.5);
}

function summary(runs: Marks[]): string {
  const steps = runs[0].steps.map(([step], at) => {
    const delta = (index: 1 | 2) =>
      median(runs.map(({ steps }) => steps[at][index] - (at > 0 ? steps[at - 1][index] : 0)));
    return `${step} +${delta(1).toFixed(0)}/${delta(2).toFixed(1)}`;
  });
  const last = (index: 1 | 2) => median(runs.map(({ steps }) => steps.at(-1)![index]));
  const threads = median(runs.map((marks) => marks.threads));
  return `end ${last(1).toFixed(0)} ms, main ${last(2).toFixed(0)}, threads ${
    threads.toFixed(0)
  } CPU ms | ${steps.join(" | ")}`;
}

/** Waits until a UDP socket is bound to 127.0.0.1:port (as anchors.sh's `wait_port` for TCP). */
async function bound(port: number): Promise<void> {
  const local = ` 0100007F:${port.toString(16).toUpperCase().padStart(4, "0")} `;
  for (let tries = 0; tries < 500; tries++) {
    if ((await Deno.readTextFile("/proc/net/udp")).includes(local)) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`The floor's rendezvous did not bind UDP port ${port}`);
}

async function certificate(dir: string): Promise<void> {
  const { success } = await new Deno.Command("openssl", {
    args: ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
      .concat(["-days", "2", "-subj", "/CN=floor", "-addext", "subjectAltName=IP:127.0.0.1"])
      .concat(["-addext", "basicConstraints=critical,CA:FALSE"])
      .concat(["-keyout", `${dir}/key.pem`, "-out", `${dir}/cert.pem`]),
    stdout: "null",
    stderr: "null",
  }).output();
  if (!success) throw new Error("openssl could not make the floor's certificate");
}

const dir = await Deno.makeTempDir({ prefix: "p2pft-floor-marks-" });
try {
  await certificate(dir);
  await Deno.writeFile(`${dir}/src`, crypto.getRandomValues(new Uint8Array(1024)));
  const free = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (free.addr as Deno.NetAddr).port;
  free.close();
  const server = side([FLOOR, "serve", `${port}`], "null");
  try {
    await bound(port);
    const marks = new Map<string, { send: Marks[]; receive: Marks[] }>();
    for (let run = 1; run <= RUNS; run++) {
      for (const [name, row] of Object.entries(ROWS)) {
        const args = row(dir, `${run}-${name}`, port);
        const receiver = side(args.receive);
        const sender = side(args.send);
        const [send, receive] = await Promise.all([marksOf(sender), marksOf(receiver)])
          .catch((error) => {
            // The other side would wait for its peer forever.
            for (const child of [sender, receiver]) stop(child);
            throw error;
          });
        const sides = marks.get(name) ?? { send: [], receive: [] };
        sides.send.push(send);
        sides.receive.push(receive);
        marks.set(name, sides);
      }
    }
    console.log(`# medians of ${RUNS} runs; step +wall ms/+main-thread CPU ms`);
    for (const [name, { send, receive }] of marks) {
      console.log(`${name} send: ${summary(send)}`);
      console.log(`${name} receive: ${summary(receive)}`);
    }
  } finally {
    server.kill();
    await server.status;
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
