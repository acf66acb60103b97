import assert from "node:assert/strict";
import { ByteReader, fillFrom } from "./byte_reader.ts";
import { ConnectionLostError, ProtocolError } from "./errors.ts";

/** A loopback TCP pair: the dialled end and the accepted one. */
async function tcpPair(): Promise<[Deno.TcpConn, Deno.TcpConn]> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const dialled = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  return [dialled, await accepted];
}

/** A connection as an in-place source; cancelling closes it. */
function inPlace(conn: Deno.Conn) {
  return {
    read: (view: Uint8Array) => conn.read(view),
    cancel: () => Promise.resolve(conn.close()),
  };
}

Deno.test("ByteReader reads exact lengths in place and tells a clean end", async () => {
  const [a, b] = await tcpPair();
  const reader = new ByteReader(inPlace(b), { what: "data stream" });
  try {
    await a.write(Uint8Array.of(1, 2, 3, 4, 5, 6, 7));
    await a.closeWrite();
    assert.equal(await reader.atEnd(), false);
    assert.deepEqual(await reader.readExact(3), Uint8Array.of(1, 2, 3));
    const target = new Uint8Array(4);
    assert.equal(await reader.readInto(target), target);
    assert.deepEqual(target, Uint8Array.of(4, 5, 6, 7));
    assert.equal(await reader.atEnd(), true);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("ByteReader keeps what a read that ended early filled, and says how much", async () => {
  const [a, b] = await tcpPair();
  const reader = new ByteReader(inPlace(b), { what: "data stream", failure: ConnectionLostError });
  try {
    await a.write(Uint8Array.of(9, 8, 7));
    await a.closeWrite();
    const target = new Uint8Array(10);
    const progress = { filled: 0 };
    await assert.rejects(reader.readInto(target, "segment", progress), (error) => {
      assert.ok(error instanceof ProtocolError);
      assert.equal(error.message, "Cannot read segment: stream ended after 3 of 10 bytes");
      return true;
    });
    assert.equal(progress.filled, 3);
    assert.deepEqual(target.subarray(0, 3), Uint8Array.of(9, 8, 7));
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("ByteReader's abort on an in-place source cancels the source, ending a read in flight", async () => {
  const [a, b] = await tcpPair();
  const controller = new AbortController();
  let cancelled = 0;
  const reader = new ByteReader({
    read: (view) => b.read(view),
    cancel: () => {
      cancelled++;
      b.close();
      return Promise.resolve();
    },
  }, { what: "data stream", signal: controller.signal });
  try {
    const reading = reader.readExact(4);
    controller.abort(new Error("stopped"));
    await assert.rejects(reading, /stopped/);
    assert.equal(cancelled, 1);
  } finally {
    a.close();
  }
});

Deno.test("fillFrom fills what the source has before its end, and says how much", async () => {
  const [a, b] = await tcpPair();
  try {
    await a.write(Uint8Array.of(1, 2, 3, 4, 5));
    await a.closeWrite();
    let firsts = 0;
    const first = new Uint8Array(2);
    assert.equal(await fillFrom(b, first, { onFirstByte: () => firsts++ }), 2);
    const rest = new Uint8Array(8);
    assert.equal(await fillFrom(b, rest), 3);
    assert.deepEqual([...first, ...rest.subarray(0, 3)], [1, 2, 3, 4, 5]);
    assert.equal(await fillFrom(b, new Uint8Array(1)), 0);
    assert.equal(firsts, 1);
  } finally {
    a.close();
    b.close();
  }
});
