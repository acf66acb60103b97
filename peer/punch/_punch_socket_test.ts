import assert from "node:assert/strict";
import { DatagramMux } from "./datagram_mux.ts";
import { bindPunchSockets } from "./_punch_socket.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

Deno.test("the punch port receives IPv4 and IPv6 on one port number beside the low-TTL sender", async () => {
  const sockets = await bindPunchSockets();
  assert.ok(sockets.socket6, "this host binds [::]: the test needs IPv6 on loopback");
  const mux = new DatagramMux(sockets.socket, { ipv6: sockets.socket6 });
  const peer4 = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const peer6 = Deno.listenDatagram({ transport: "udp", hostname: "::1", port: 0 });
  try {
    const port = mux.port;
    assert.equal((sockets.socket6.addr as Deno.NetAddr).port, port);
    const channel = mux.channel(() => true);
    const signal = AbortSignal.timeout(5000);
    const rounds = 5;
    for (let round = 0; round < rounds; round++) {
      await peer4.send(encoder.encode("v4"), { transport: "udp", hostname: "127.0.0.1", port });
      await peer6.send(encoder.encode("v6"), { transport: "udp", hostname: "::1", port });
    }
    // Every datagram reaches the mux: none is left to the low-TTL socket, which nobody reads.
    const seen: string[] = [];
    for (let index = 0; index < 2 * rounds; index++) {
      const { data, from } = await channel.receive(signal);
      seen.push(`${decoder.decode(data)} from ${from.hostname}:${from.port}`);
    }
    const from4 = `v4 from 127.0.0.1:${(peer4.addr as Deno.NetAddr).port}`;
    const from6 = `v6 from ::1:${(peer6.addr as Deno.NetAddr).port}`;
    assert.deepEqual(seen.toSorted(), [...Array(rounds).fill(from4), ...Array(rounds).fill(from6)]);
    // Answers leave from the same port number, each family from its own socket.
    await channel.send(encoder.encode("back4"), peer4.addr as Deno.NetAddr);
    await channel.send(encoder.encode("back6"), peer6.addr as Deno.NetAddr);
    const [reply4, by4] = await peer4.receive();
    const [reply6, by6] = await peer6.receive();
    assert.equal(decoder.decode(reply4), "back4");
    assert.deepEqual([(by4 as Deno.NetAddr).hostname, (by4 as Deno.NetAddr).port], [
      "127.0.0.1",
      port,
    ]);
    assert.equal(decoder.decode(reply6), "back6");
    assert.deepEqual([(by6 as Deno.NetAddr).hostname, (by6 as Deno.NetAddr).port], ["::1", port]);
  } finally {
    sockets.closeLowTtl();
    await mux.close();
    peer4.close();
    peer6.close();
  }
});

Deno.test("DatagramMux reports an IPv4 peer of a dual-stack socket as plain IPv4", async () => {
  const mux = new DatagramMux(Deno.listenDatagram({ transport: "udp", hostname: "::", port: 0 }));
  const peer = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const channel = mux.channel(() => true);
    await peer.send(encoder.encode("hi"), {
      transport: "udp",
      hostname: "127.0.0.1",
      port: mux.port,
    });
    const { from } = await channel.receive(AbortSignal.timeout(5000));
    assert.equal(from.hostname, "127.0.0.1");
    assert.equal(from.port, (peer.addr as Deno.NetAddr).port);
  } finally {
    await mux.close();
    peer.close();
  }
});
