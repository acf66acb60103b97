import assert from "node:assert/strict";
import { withTimeout } from "../../transfer/_test_util.ts";
import type { Channel } from "./_channel.ts";
import { STREAMS_AHEAD, TlsSession } from "./_session.ts";

/** Two in-memory channels joined back to back; `written` records what `a` writes. */
function channelPair(written: number[] = []): [Channel, Channel] {
  const ends = [0, 1].map(() => {
    let controller!: ReadableByteStreamController;
    const readable = new ReadableStream({ type: "bytes", start: (c) => void (controller = c) });
    return { readable, controller };
  });
  const channel = (self: number): Channel => {
    const peer = ends[1 - self].controller;
    const end = () => {
      for (const c of [peer, ends[self].controller]) {
        try {
          c.close();
          // A BYOB read waiting on a closed byte stream ends only once answered.
          c.byobRequest?.respond(0);
        } catch {
          // Already closed.
        }
      }
    };
    return {
      stream: {
        readable: ends[self].readable,
        writable: new WritableStream({
          write(chunk) {
            if (self === 0) written.push(chunk.length);
            peer.enqueue(chunk.slice());
          },
          close: end,
        }),
      },
      close: end,
    };
  };
  return [channel(0), channel(1)];
}

Deno.test("a LAN receiver dials the sender's next streams ahead, so the sender opens them without an OPEN", async () => {
  await withTimeout(5_000, async () => {
    const controlWrites: number[] = [];
    const [senderControl, receiverControl] = channelPair(controlWrites);
    const dialled: number[] = [];
    const sender = new TlsSession({
      role: "sender",
      control: senderControl,
      announceOwn: false,
      timeoutMs: 4_000,
    });
    const receiver = new TlsSession({
      role: "receiver",
      control: receiverControl,
      announceOwn: false,
      dialAhead: true,
      timeoutMs: 4_000,
      dial: (id) => {
        dialled.push(id);
        const [near, far] = channelPair();
        assert.ok(sender.deliver(id, far), `the sender took the connection of stream ${id}`);
        return Promise.resolve(near);
      },
    });
    const accepted = [receiver.acceptStream(), receiver.acceptStream(), receiver.acceptStream()];
    // Dialled before the sender asked for any, five at a time.
    assert.deepEqual(dialled, [0, 2, 4, 6, 8].slice(0, STREAMS_AHEAD));
    const opened = await Promise.all([
      sender.openStream(),
      sender.openStream(),
      sender.openStream(),
    ]);
    assert.deepEqual(controlWrites, [], "the sender wrote nothing on the control connection");
    for (const [index, stream] of opened.entries()) {
      const writer = stream.writable.getWriter();
      await writer.write(new Uint8Array([index]));
      await writer.close();
    }
    for (const [index, stream] of (await Promise.all(accepted)).entries()) {
      const reader = stream.readable.getReader();
      assert.deepEqual((await reader.read()).value, new Uint8Array([index]));
      reader.releaseLock();
    }
    await sender.close({ failed: false, message: "done" });
    assert.deepEqual(await receiver.closed, { failed: false, message: "done" });
  });
});
