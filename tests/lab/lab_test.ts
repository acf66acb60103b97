import assert from "node:assert/strict";
import { hostOf, ping, portOf, probe, startEcho } from "./_test_helpers.ts";
import { createLab, labSkip } from "./mod.ts";
import { listNamespaces, runCommand } from "./_run.ts";

const skip = await labSkip();
const ECHO_PORT = 7000;

function labTest(name: string, timeoutMs: number, fn: (signal: AbortSignal) => Promise<void>) {
  Deno.test({
    name: name + skip.note,
    ignore: skip.ignore,
    fn: () => fn(AbortSignal.timeout(timeoutMs)),
  });
}

labTest(
  "lab: a LAN host reaches the rendezvous host, unsolicited inbound is dropped, NAT none is open",
  15_000,
  async (signal) => {
    await using lab = await createLab({ natA: "endpoint-independent", natB: "none", signal });
    const rv = `${lab.rendezvous.ip}:${ECHO_PORT}`;
    await using _rvEcho = await startEcho(lab, lab.rendezvous.ns, { bind: rv, signal });
    await using _echoA = await startEcho(lab, lab.hostA.ns, { bind: "0.0.0.0:7100", signal });
    await using _echoB = await startEcho(lab, lab.hostB.ns, { bind: "0.0.0.0:7200", signal });

    const fromA = await probe(lab, lab.hostA.ns, [rv], { signal });
    assert.deepEqual(hostOf(fromA.observed[0] ?? ""), lab.routerA.publicIp);
    const fromB = await probe(lab, lab.hostB.ns, [rv], { signal });
    assert.deepEqual(hostOf(fromB.observed[0] ?? ""), lab.hostB.ip);
    assert.deepEqual(lab.hostB.publicIp, lab.hostB.ip);

    const inbound = await probe(lab, lab.rendezvous.ns, [
      `${lab.hostA.publicIp}:7100`,
      `${lab.hostB.publicIp}:7200`,
    ], { timeoutMs: 800, signal });
    assert.deepEqual(inbound.observed[0], null, "router A let an unsolicited datagram in");
    assert.deepEqual(inbound.observed[1], `${lab.rendezvous.ip}:${portOf(inbound.local)}`);

    // An open mapping only admits the address:port it was opened to (conntrack ESTABLISHED).
    await using primed = await startEcho(lab, lab.hostA.ns, {
      bind: "0.0.0.0:7101",
      prime: rv,
      signal,
    });
    const mapped = (await primed.next("mapped", signal)).address;
    const stranger = await probe(lab, lab.rendezvous.ns, [mapped], {
      signal,
      bind: `${lab.rendezvous.altIp}:${ECHO_PORT}`,
      timeoutMs: 800,
    });
    assert.deepEqual(stranger.observed[0], null, `a stranger got through the mapping ${mapped}`);
  },
);

labTest(
  "lab: endpoint-independent NAT keeps one public port for two destinations, symmetric does not",
  15_000,
  async (signal) => {
    await using lab = await createLab({
      natA: "endpoint-independent",
      natB: "symmetric",
      samePrivateIp: true,
      signal,
    });
    assert.deepEqual(lab.hostA.ip, lab.hostB.ip);
    const first = `${lab.rendezvous.ip}:${ECHO_PORT}`;
    const second = `${lab.rendezvous.altIp}:${ECHO_PORT}`;
    await using _echo1 = await startEcho(lab, lab.rendezvous.ns, { bind: first, signal });
    await using _echo2 = await startEcho(lab, lab.rendezvous.ns, { bind: second, signal });

    const a = await probe(lab, lab.hostA.ns, [first, second], { signal, bind: "0.0.0.0:40000" });
    assert.deepEqual(a.observed, [
      `${lab.routerA.publicIp}:40000`,
      `${lab.routerA.publicIp}:40000`,
    ]);

    const b = await probe(lab, lab.hostB.ns, [first, second], { signal, bind: "0.0.0.0:40000" });
    assert(b.observed[0] && b.observed[1], `symmetric NAT: a probe got no answer: ${b.observed}`);
    assert.deepEqual(hostOf(b.observed[0]), lab.routerB.publicIp);
    assert.deepEqual(hostOf(b.observed[1]), lab.routerB.publicIp);
    assert.notEqual(portOf(b.observed[0]), portOf(b.observed[1]));
  },
);

for (const hairpin of [true, false]) {
  labTest(
    `lab: hairpin ${
      hairpin ? "on lets" : "off stops"
    } a LAN host reach a neighbour's public mapping`,
    15_000,
    async (signal) => {
      await using lab = await createLab({
        natA: "endpoint-independent",
        natB: "none",
        hairpin,
        signal,
      });
      const rv = `${lab.rendezvous.ip}:${ECHO_PORT}`;
      await using _rvEcho = await startEcho(lab, lab.rendezvous.ns, { bind: rv, signal });
      await using neighbour = await startEcho(lab, lab.hostA2.ns, {
        bind: "0.0.0.0:7300",
        prime: rv,
        signal,
      });
      const mapped = (await neighbour.next("mapped", signal)).address;
      assert.deepEqual(hostOf(mapped), lab.routerA.publicIp);

      const viaPublic = await probe(lab, lab.hostA.ns, [mapped], {
        signal,
        bind: "0.0.0.0:7400",
        timeoutMs: 800,
      });
      // Hairpinned, the neighbour sees host A as the router's public address.
      assert.deepEqual(viaPublic.observed[0], hairpin ? `${lab.routerA.publicIp}:7400` : null);
      const direct = await probe(lab, lab.hostA.ns, [`${lab.hostA2.ip}:7300`], { signal });
      assert.deepEqual(direct.observed[0], `${lab.hostA.ip}:${portOf(direct.local)}`);
    },
  );
}

labTest(
  "lab: a 50 ms delay per public link shows as ~100 ms ping RTT, and dispose leaves nothing",
  20_000,
  async (signal) => {
    let namespaces: readonly string[];
    let pids: number[];
    {
      await using lab = await createLab({
        natA: "endpoint-independent",
        natB: "symmetric",
        delayMs: 50,
        signal,
      });
      namespaces = lab.namespaces;
      await using _echo = await startEcho(lab, lab.rendezvous.ns, {
        bind: "0.0.0.0:7000",
        signal,
      });
      pids = lab.pids();
      assert(pids.length >= 4, `expected 3 delay lines and an echo, got pids ${pids}`);
      await ping(lab, lab.hostA.ns, lab.internet.ip, { count: 1, intervalS: 0.2, signal }); // ARP
      const oneLink = await ping(lab, lab.hostA.ns, lab.internet.ip, {
        count: 5,
        intervalS: 0.2,
        signal,
      });
      assert.deepEqual(oneLink.lost, 0);
      assert(
        // The fastest ping tells how many delayed links it crossed; slow ones only say the host is busy.
        oneLink.min >= 99 && oneLink.min < 199,
        `RTT over one link: ${JSON.stringify(oneLink)}`,
      );
      await ping(lab, lab.hostA.ns, lab.rendezvous.ip, { count: 1, intervalS: 0.2, signal });
      const twoLinks = await ping(lab, lab.hostA.ns, lab.rendezvous.ip, {
        count: 3,
        intervalS: 0.2,
        signal,
      });
      assert(
        twoLinks.min >= 199 && twoLinks.min < 299,
        `RTT over two links: ${JSON.stringify(twoLinks)}`,
      );
    }
    const left = (await listNamespaces()).filter((name) => namespaces.includes(name));
    assert.deepEqual(left, []);
    for (const pid of pids) {
      const alive = await Deno.stat(`/proc/${pid}`).then(() => true, () => false);
      assert(!alive, `process ${pid} still runs after dispose`);
    }
  },
);

labTest(
  "lab: 20 % loss per public link drops about 36 % of pings over one link",
  15_000,
  async (signal) => {
    await using lab = await createLab({
      natA: "endpoint-independent",
      natB: "none",
      lossPercent: 20,
      signal,
    });
    const result = await ping(lab, lab.hostA.ns, lab.internet.ip, {
      count: 400,
      intervalS: 0.002,
      signal,
    });
    const rate = result.lost / result.sent;
    // Each ping crosses link A twice: 1 - 0.8^2 = 0.36; 4 standard deviations either side.
    assert(rate > 0.26 && rate < 0.46, `lost ${result.lost} of ${result.sent}`);
  },
);

labTest("lab: a 20 Mbit/s rate limit holds TCP near 20 Mbit/s", 20_000, async (signal) => {
  const iperf = await runCommand("iperf3", ["--version"]).catch(() => undefined);
  assert.ok(iperf?.code === 0, "iperf3 is not installed (apt-get install iperf3)");
  await using lab = await createLab({
    natA: "endpoint-independent",
    natB: "none",
    rateMbit: 20,
    signal,
  });
  const server = lab.spawn(lab.rendezvous.ns, [
    "iperf3",
    "--server",
    "--forceflush",
    "--bind",
    lab.rendezvous.ip,
  ], { stderr: "null" });
  const lines = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  signal.addEventListener("abort", () => lines.cancel().catch(() => {}), { once: true });
  try {
    let seen = "";
    while (!seen.includes("Server listening")) {
      const { value, done } = await lines.read();
      assert.ok(!done, `iperf3 server ended: ${seen}`);
      seen += value;
    }
  } finally {
    await lines.cancel();
  }
  const run = await lab.exec(lab.hostA.ns, [
    "iperf3",
    "--json",
    "--client",
    lab.rendezvous.ip,
    "--time",
    "2",
    "--connect-timeout",
    "2000",
  ], { signal });
  assert.equal(run.code, 0, `iperf3 client failed: ${run.stdout.slice(0, 500)} ${run.stderr}`);
  const mbit = JSON.parse(run.stdout).end.sum_received.bits_per_second / 1e6;
  assert.ok(mbit > 14 && mbit < 21.5, `measured ${mbit.toFixed(1)} Mbit/s`);
});

labTest("lab: an aborted createLab leaves no namespace behind", 10_000, async () => {
  const before = new Set(await listNamespaces());
  const controller = new AbortController();
  const creating = createLab({ natA: "symmetric", natB: "symmetric", signal: controller.signal });
  controller.abort(new Error("test abort"));
  const error = await creating.then(() => undefined, (e) => e);
  assert(error instanceof Error, "createLab resolved despite the abort");
  const added = (await listNamespaces()).filter((name) =>
    !before.has(name) && name.startsWith("p2l-")
  );
  assert.deepEqual(added, []);
});

labTest("lab: spawn refuses a namespace outside the lab", 10_000, async (signal) => {
  await using lab = await createLab({ natA: "none", natB: "none", signal });
  let error: unknown;
  try {
    lab.spawn("not-a-lab-namespace", ["true"]);
  } catch (e) {
    error = e;
  }
  assert(error instanceof TypeError, `expected a TypeError, got ${error}`);
});

labTest(
  "lab: blockUdp drops UDP through both home routers while TCP still passes, NATed",
  20_000,
  async (signal) => {
    await using lab = await createLab({
      natA: "endpoint-independent",
      natB: "endpoint-independent",
      blockUdp: true,
      signal,
    });
    const rv = `${lab.rendezvous.ip}:${ECHO_PORT}`;
    await using _rvEcho = await startEcho(lab, lab.rendezvous.ns, { bind: rv, signal });
    for (const host of [lab.hostA, lab.hostB]) {
      const udp = await probe(lab, host.ns, [rv], { signal, timeoutMs: 800 });
      assert.deepEqual(udp.observed[0], null, `UDP from ${host.ns} got through`);
    }
    // TCP: a one-line listener in the rendezvous namespace reports the peer it saw.
    const listener = lab.spawn(lab.rendezvous.ns, [
      "python3",
      "-c",
      "import socket,sys\ns=socket.create_server((sys.argv[1],7001))\nprint('ready',flush=True)\n" +
      "c,a=s.accept()\nprint(a[0],flush=True)",
      lab.rendezvous.ip,
    ], { stderr: "null" });
    const lines = listener.stdout.pipeThrough(new TextDecoderStream()).getReader();
    signal.addEventListener("abort", () => lines.cancel().catch(() => {}), { once: true });
    let seen = "";
    while (!seen.includes("ready\n")) {
      const { value, done } = await lines.read();
      assert.ok(!done, `listener ended: ${seen}`);
      seen += value;
    }
    const dial = await lab.exec(lab.hostA.ns, [
      "python3",
      "-c",
      "import socket,sys\nsocket.create_connection((sys.argv[1],7001),timeout=3).close()",
      lab.rendezvous.ip,
    ], { signal });
    assert.equal(dial.code, 0, `TCP from host A failed: ${dial.stderr}`);
    while (!seen.trim().endsWith(lab.routerA.publicIp)) {
      const { value, done } = await lines.read();
      assert.ok(!done, `listener ended before it saw host A: ${seen}`);
      seen += value;
    }
    await lines.cancel();
  },
);
