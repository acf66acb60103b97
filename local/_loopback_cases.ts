/**
 * IO cases run by loopback_test.ts inside a fresh network namespace whose
 * loopback carries multicast (`deno test` on this file elsewhere would send
 * to the host's real LAN: it refuses unless P2PFT_LOCAL_LOOPBACK=1).
 */
import assert from "node:assert/strict";
import { TimeoutError } from "../base/mod.ts";
import { MdnsSocket } from "./_mdns_socket.ts";
import { announce, browse, browseAll } from "./mod.ts";
import { decodeDnsMessage, encodeDnsMessage } from "./dns.ts";
import { readAdvert, senderInstance, senderQuery } from "./records.ts";

if (Deno.env.get("P2PFT_LOCAL_LOOPBACK") !== "1") {
  throw new Error("Run these cases through local/loopback_test.ts, inside a network namespace");
}

const at = (port: number): Deno.NetAddr[] => [{ transport: "udp", hostname: "127.0.0.1", port }];
const fingerprint = new Uint8Array(32).fill(7);

Deno.test("a sender and a receiver on one host pair over loopback multicast and close everything", async () => {
  await using sender = await announce({ nameplate: "731", candidates: at(40000), fingerprint });
  const found = await browse("731", { candidates: at(40001), timeoutMs: 5000 });
  const claimed = await sender.receiver();
  assert.deepEqual(found, {
    found: "local",
    nameplate: "731",
    token: sender.token,
    selfId: found.selfId,
    peer: { id: sender.selfId, candidates: at(40000), fingerprint },
  });
  assert.deepEqual(claimed, {
    found: "local",
    nameplate: "731",
    token: sender.token,
    selfId: sender.selfId,
    peer: { id: found.selfId, candidates: at(40001) },
  });
});

// loopback_test.ts joins two interfaces by a veth pair, p2pft0 (fd00::1) and p2pft1 (fd00::2):
// IPv6 multicast does not loop on lo.
const atV6 = (hostname: string, port: number): Deno.NetAddr => ({
  transport: "udp",
  hostname,
  port,
});

Deno.test("with IPv6 candidates only, the two sides pair over ff02::fb and learn them from AAAA records", async () => {
  const senderAt = [atV6("fd00::1", 40000)];
  const receiverAt = [atV6("fd00:0::2", 40001)]; // written longhand: adverts carry the canonical text
  await using sender = await announce({ nameplate: "737", candidates: senderAt, fingerprint });
  const found = await browse("737", { candidates: receiverAt, timeoutMs: 5000 });
  assert.deepEqual(found.peer, { id: sender.selfId, candidates: senderAt, fingerprint });
  const claimed = await sender.receiver();
  assert.deepEqual(claimed.peer, { id: found.selfId, candidates: [atV6("fd00::2", 40001)] });
});

Deno.test("dual-stack sides announce both families, and each learns all of the other's addresses", async () => {
  const senderAt = [...at(40000), atV6("fd00::1", 40000)];
  const receiverAt = [...at(40001), atV6("fd00::2", 40001)];
  await using sender = await announce({ nameplate: "738", candidates: senderAt, fingerprint });
  const found = await browse("738", { candidates: receiverAt, timeoutMs: 5000 });
  assert.deepEqual(found.peer.candidates, senderAt);
  assert.deepEqual((await sender.receiver()).peer.candidates, receiverAt);
});

Deno.test("where ff02::fb cannot be joined for an IPv6 address, discovery goes on over IPv4", async () => {
  // No interface holds 2001:db8::99, so there is no interface to join ff02::fb on.
  const senderAt = [...at(40000), atV6("2001:db8::99", 40000)];
  await using sender = await announce({ nameplate: "739", candidates: senderAt, fingerprint });
  const found = await browse("739", { candidates: at(40001), timeoutMs: 5000 });
  assert.deepEqual(found.peer.candidates, senderAt);
  assert.deepEqual((await sender.receiver()).peer.candidates, at(40001));
});

Deno.test("with only IPv6 candidates no interface holds, announce fails naming ff02::fb", async () => {
  await assert.rejects(
    announce({ nameplate: "740", candidates: [atV6("2001:db8::99", 40000)], fingerprint }),
    /^P2pftError: Cannot join the multicast DNS group ff02::fb for 2001:db8::99: no interface/,
  );
});

Deno.test("a one-shot IPv6 query from another port is answered by unicast to its link-local address", async () => {
  await using sender = await announce({
    nameplate: "743",
    candidates: [atV6("fd00::1", 40000)],
    fingerprint,
  });
  // Not joined to ff02::fb and not on 5353: only a unicast answer can reach this socket.
  const asker = Deno.listenDatagram({ transport: "udp", hostname: "::", port: 0 });
  let gaveUp = false;
  const timer = setTimeout(() => {
    gaveUp = true;
    asker.close(); // fails the receive below
  }, 5000);
  try {
    const index = Deno.networkInterfaces().find((i) => i.name === "p2pft1" && i.scopeid)?.scopeid;
    await asker.send(encodeDnsMessage(senderQuery("743", false)), {
      transport: "udp",
      hostname: `ff02::fb%${index}`,
      port: 5353,
    });
    const [data, from] = await asker.receive();
    assert.match((from as Deno.NetAddr).hostname, /^fe80:/);
    assert.deepEqual(readAdvert(decodeDnsMessage(data), senderInstance("743"))?.id, sender.selfId);
  } finally {
    clearTimeout(timer);
    if (!gaveUp) asker.close();
  }
});

Deno.test("a receiver that starts looking before the sender announces still finds it", async () => {
  const browsing = browse("736", { candidates: at(40001), timeoutMs: 5000 });
  await using sender = await announce({ nameplate: "736", candidates: at(40000), fingerprint });
  const found = await browsing;
  assert.deepEqual(found.peer.id, sender.selfId);
  assert.deepEqual((await sender.receiver()).peer.id, found.selfId);
});

Deno.test("a stopped sender says goodbye: its records go out again with TTL 0", async () => {
  await using listener = await MdnsSocket.open(["127.0.0.1"]);
  const signal = AbortSignal.timeout(5000);
  const sender = await announce({ nameplate: "732", candidates: at(40000), fingerprint });
  const instance = senderInstance("732");
  for (;;) {
    const { message } = await listener.receive(signal);
    if (readAdvert(message, instance)) break; // its announcement
  }
  await sender[Symbol.asyncDispose]();
  for (;;) {
    const { message } = await listener.receive(signal);
    const srv = message.answers.find((r) => r.kind === "SRV" && r.name === instance);
    if (srv?.ttl === 120) continue; // the second announcement, if it was still on its way
    assert(srv && message.answers.every((r) => r.ttl === 0), JSON.stringify(message.answers));
    break;
  }
  await assert.rejects(sender.receiver(), /stopped before a receiver came/);
});

Deno.test("aborting announce rejects the wait for a receiver with the reason", async () => {
  const controller = new AbortController();
  const sender = await announce({ nameplate: "733", candidates: at(40000), fingerprint }, {
    signal: controller.signal,
  });
  const waiting = sender.receiver();
  controller.abort(new Error("user pressed Ctrl-C"));
  await assert.rejects(waiting, /user pressed Ctrl-C/);
  await sender[Symbol.asyncDispose]();
});

Deno.test("browse rejects with the caller's abort reason, or a TimeoutError naming the nameplate", async () => {
  const controller = new AbortController();
  const browsing = browse("734", {
    candidates: at(40001),
    timeoutMs: 60_000,
    signal: controller.signal,
  });
  controller.abort(new Error("user pressed Ctrl-C"));
  await assert.rejects(browsing, /user pressed Ctrl-C/);
  await assert.rejects(
    browse("735", { candidates: at(40001), timeoutMs: 300 }),
    (error) =>
      error instanceof TimeoutError &&
      error.message === "No sender with nameplate 735 answered on the local network within 300 ms",
  );
});

Deno.test("browseAll lists every announcing sender once, and nothing after they stopped", async () => {
  {
    await using _first = await announce({ nameplate: "741", candidates: at(40010), fingerprint });
    await using _second = await announce({ nameplate: "742", candidates: at(40011), fingerprint });
    const peers = await browseAll({ interfaces: ["127.0.0.1"], timeoutMs: 1500 });
    assert.deepEqual(
      peers.map((peer) => [peer.instance, peer.port]).sort(),
      [[senderInstance("741"), 40010], [senderInstance("742"), 40011]].sort(),
    );
  }
  assert.deepEqual(await browseAll({ interfaces: ["127.0.0.1"], timeoutMs: 800 }), []);
});
