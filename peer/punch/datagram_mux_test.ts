import assert from "node:assert/strict";
import { DatagramMux } from "./datagram_mux.ts";

Deno.test("DatagramMux routes datagrams by their first byte and frees the port on close", async () => {
  const peer = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const mux = new DatagramMux(
    Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 }),
  );
  try {
    const a = mux.channel((data) => data[0] === 0x61);
    const b = mux.channel((data) => data[0] === 0x62);
    const to: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: mux.port };
    await peer.send(new TextEncoder().encode("zzz"), to); // routed nowhere, dropped
    await peer.send(new TextEncoder().encode("bravo"), to);
    await peer.send(new TextEncoder().encode("alpha"), to);
    const signal = AbortSignal.timeout(5000);
    assert.equal(new TextDecoder().decode((await a.receive(signal)).data), "alpha");
    const got = await b.receive(signal);
    assert.equal(new TextDecoder().decode(got.data), "bravo");
    assert.equal(got.from.port, (peer.addr as Deno.NetAddr).port);
    await a.send(new TextEncoder().encode("reply"), got.from);
    const [reply] = await peer.receive();
    assert.equal(new TextDecoder().decode(reply), "reply");
  } finally {
    await mux.close();
    peer.close();
  }
  // The port is free again at once: QUIC binds it right after punching.
  const rebound = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: mux.port });
  rebound.close();
});

Deno.test("DatagramMux receive rejects with the abort reason and after close", async () => {
  const mux = new DatagramMux(
    Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 }),
  );
  const channel = mux.channel(() => true);
  const controller = new AbortController();
  const pending = channel.receive(controller.signal);
  controller.abort(new Error("stop"));
  await assert.rejects(pending, { message: "stop" });
  const waiting = assert.rejects(channel.receive(AbortSignal.timeout(5000)), {
    name: "BadResource",
  });
  await mux.close();
  await waiting;
});
