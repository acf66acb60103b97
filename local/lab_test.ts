/**
 * Local discovery over real multicast between network namespaces of the lab
 * (tests/lab): hostA and hostA2 share a LAN bridge, hostB is in the other home.
 */
import assert from "node:assert/strict";
import { toHex } from "../base/mod.ts";
import { createLab, type Lab, labSkip } from "../tests/lab/mod.ts";
import { decodeDnsMessage, encodeDnsMessage } from "./dns.ts";
import { readAdvert, senderInstance, senderQuery } from "./records.ts";

const skip = await labSkip();
const PEER = new URL("./_testing_peer.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;
const FINGERPRINT = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, "0")).join("");

function labTest(name: string, timeoutMs: number, fn: (signal: AbortSignal) => Promise<void>) {
  Deno.test({
    name: name + skip.note,
    ignore: skip.ignore,
    fn: () => fn(AbortSignal.timeout(timeoutMs)),
  });
}

function peerCommand(args: string[]): string[] {
  return [Deno.execPath(), "run", "--quiet", "-A", PEER, ...args];
}

type Line = Record<string, unknown>;

/** Starts an announcing sender in `ns`; its lines can be read in order; dispose stops it. */
async function startSender(lab: Lab, ns: string, ip: string, signal: AbortSignal) {
  const child = lab.spawn(ns, peerCommand(["announce", "4242", ip, "40000"]), {
    stdin: "piped",
    stderr: "inherit",
    cwd: ROOT,
  });
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const next = async (): Promise<Line> => {
    const cancel = () => lines.cancel(signal.reason).catch(() => {});
    signal.addEventListener("abort", cancel, { once: true });
    try {
      while (!buffered.includes("\n")) {
        const { value, done } = await lines.read();
        if (done) throw new Error(`The sender in ${ns} ended early; ${signal.reason ?? ""}`);
        buffered += value;
      }
      const newline = buffered.indexOf("\n");
      const line = JSON.parse(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      return line;
    } finally {
      signal.removeEventListener("abort", cancel);
    }
  };
  const announced = await next();
  assert.equal(announced.event, "announced");
  return {
    announced,
    next,
    /** Closes its stdin (it says goodbye and exits) and returns its exit code. */
    async stop(): Promise<number> {
      await child.stdin.close();
      const rest = await next().catch(() => undefined);
      assert.equal(rest, undefined, "the sender printed more than expected");
      return (await child.status).code;
    },
  };
}

async function browseIn(lab: Lab, ns: string, ip: string, timeoutMs: number, signal: AbortSignal) {
  const result = await lab.exec(
    ns,
    peerCommand(["browse", "4242", ip, "40001", String(timeoutMs)]),
    {
      signal,
    },
  );
  return { code: result.code, line: JSON.parse(result.stdout) as Line, stderr: result.stderr };
}

labTest(
  "local: a receiver on the same LAN finds the sender; the other home finds nothing; a second receiver is told it is taken",
  30_000,
  async (signal) => {
    await using lab = await createLab({
      natA: "endpoint-independent",
      natB: "endpoint-independent",
      signal,
    });
    const sender = await startSender(lab, lab.hostA.ns, lab.hostA.ip, signal);

    const receiver = await browseIn(lab, lab.hostA2.ns, lab.hostA2.ip, 5000, signal);
    assert.equal(receiver.code, 0, receiver.stderr);
    assert.deepEqual(receiver.line, {
      event: "found",
      found: "local",
      nameplate: "4242",
      token: sender.announced.token,
      selfId: receiver.line.selfId,
      peerId: sender.announced.selfId,
      candidates: [`${lab.hostA.ip}:40000`],
      fingerprint: FINGERPRINT,
    });
    assert.deepEqual(await sender.next(), {
      event: "claimed",
      found: "local",
      nameplate: "4242",
      token: sender.announced.token,
      selfId: sender.announced.selfId,
      peerId: receiver.line.selfId,
      candidates: [`${lab.hostA2.ip}:40001`],
    });

    const elsewhere = await browseIn(lab, lab.hostB.ns, lab.hostB.ip, 1500, signal);
    assert.equal(elsewhere.code, 1);
    assert.deepEqual(elsewhere.line, {
      event: "error",
      name: "TimeoutError",
      message: "No sender with nameplate 4242 answered on the local network within 1500 ms",
    });

    const second = await browseIn(lab, lab.hostA2.ns, lab.hostA2.ip, 5000, signal);
    assert.equal(second.code, 1);
    assert.match(String(second.line.message), /already paired with another receiver/);

    assert.equal(await sender.stop(), 0);
  },
);

labTest(
  "local: a receiver whose port 5353 another program holds unshared still finds the sender by unicast answers",
  30_000,
  async (signal) => {
    await using lab = await createLab({
      natA: "endpoint-independent",
      natB: "endpoint-independent",
      signal,
    });
    const holder = lab.spawn(lab.hostA2.ns, [
      Deno.execPath(),
      "eval",
      "--unstable-net",
      `const c = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 5353 });
       console.log("holding"); for await (const _ of Deno.stdin.readable); c.close();`,
    ], { stdin: "piped", stderr: "inherit" });
    const holding = await holder.stdout.pipeThrough(new TextDecoderStream()).getReader().read();
    assert.equal(holding.value?.trim(), "holding");
    const sender = await startSender(lab, lab.hostA.ns, lab.hostA.ip, signal);

    const receiver = await browseIn(lab, lab.hostA2.ns, lab.hostA2.ip, 5000, signal);
    assert.equal(receiver.code, 0, receiver.stderr);
    assert.equal(receiver.line.token, sender.announced.token);
    assert.equal((await sender.next()).peerId, receiver.line.selfId);

    assert.equal(await sender.stop(), 0);
    await holder.stdin.close();
    assert.equal((await holder.status).code, 0);
  },
);

labTest(
  "local: on an IPv6-only LAN the receiver finds the sender over ff02::fb, the other home does not, and a one-shot query gets a unicast answer",
  30_000,
  async (signal) => {
    await using lab = await createLab({
      natA: "endpoint-independent",
      natB: "endpoint-independent",
      ipv6: "only",
      signal,
    });
    const sender = await startSender(lab, lab.hostA.ns, lab.hostA.ip, signal);
    const receiver = await browseIn(lab, lab.hostA2.ns, lab.hostA2.ip, 5000, signal);
    assert.equal(receiver.code, 0, receiver.stderr);
    assert.equal(receiver.line.peerId, sender.announced.selfId);
    assert.deepEqual(receiver.line.candidates, [`${lab.hostA.ip}:40000`]);
    const claimed = await sender.next();
    assert.deepEqual(claimed.candidates, [`${lab.hostA2.ip}:40001`]);

    const elsewhere = await browseIn(lab, lab.hostB.ns, lab.hostB.ip, 1500, signal);
    assert.equal(elsewhere.line.name, "TimeoutError", elsewhere.stderr);

    // From an ephemeral port and not joined to the group (as `dig -p 5353 @ff02::fb%eth0` asks),
    // only a unicast answer arrives: to the asker's link-local address, scoped by the sender.
    const query = toHex(encodeDnsMessage(senderQuery("4242", false)));
    const asked = await lab.exec(lab.hostA2.ns, [
      Deno.execPath(),
      "eval",
      "--unstable-net",
      `const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
       const index = Deno.networkInterfaces().find((i) => i.name === "eth0" && i.scopeid).scopeid;
       const c = Deno.listenDatagram({ transport: "udp", hostname: "::", port: 0 });
       const bytes = Uint8Array.from("${query}".match(/../g), (h) => parseInt(h, 16));
       await c.send(bytes, { transport: "udp", hostname: "ff02::fb%" + index, port: 5353 });
       const timer = setTimeout(() => c.close(), 5000);
       const [data, from] = await c.receive();
       console.log(JSON.stringify({ from: from.hostname, data: hex(data) }));
       clearTimeout(timer);
       c.close();`,
    ], { signal });
    assert.equal(asked.code, 0, asked.stderr);
    const answer = JSON.parse(asked.stdout);
    assert.match(answer.from, /^fe80:/);
    const data = Uint8Array.from(answer.data.match(/../g), (h: string) => parseInt(h, 16));
    const advert = readAdvert(decodeDnsMessage(data), senderInstance("4242"));
    assert.equal(advert && toHex(advert.id), sender.announced.selfId);

    assert.equal(await sender.stop(), 0);
  },
);
