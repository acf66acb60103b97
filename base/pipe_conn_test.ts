import * as assert from "node:assert/strict";
import { pipeConn } from "./pipe_conn.ts";
import { writeAll } from "./write_all.ts";

/** A connected pair of TCP connections on 127.0.0.1. */
async function tcpPair(): Promise<[Deno.TcpConn, Deno.TcpConn]> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const dialled = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  return [dialled, await accepted];
}

async function readToEnd(conn: Deno.Conn): Promise<Uint8Array> {
  return new Uint8Array(await new Response(conn.readable).arrayBuffer());
}

/** Writes `bytes` to `conn`, then ends its writing half (the reader sees the end). */
async function writeThenEnd(conn: Deno.TcpConn, bytes: Uint8Array): Promise<void> {
  await writeAll(conn, bytes);
  await conn.closeWrite();
}

Deno.test("pipeConn copies every byte in order, then passes the end on", async () => {
  const [source, from] = await tcpPair();
  const [to, sink] = await tcpPair();
  const bytes = new Uint8Array(300_000).map((_, index) => index % 251);
  const piped = pipeConn(from, to);
  const writing = writeThenEnd(source, bytes);
  const received = await readToEnd(sink);
  await Promise.all([piped, writing]);
  assert.deepEqual(received, bytes);
  for (const conn of [source, from, to]) conn.close();
});

Deno.test("pipeConn rejects when the destination is gone", async () => {
  const [source, from] = await tcpPair();
  const [to, sink] = await tcpPair();
  to.close();
  const piped = pipeConn(from, to);
  await source.write(Uint8Array.of(1, 2, 3));
  await assert.rejects(piped);
  for (const conn of [source, from, sink]) conn.close();
});

Deno.test("pipeConn grows its buffers up to maxBufferSize while reads fill them", async () => {
  const [source, from] = await tcpPair();
  const [to, sink] = await tcpPair();
  const bytes = new Uint8Array(1_000_000).map((_, index) => index % 253);
  let largest = 0;
  const piped = pipeConn(from, to, {
    bufferSize: 1024,
    maxBufferSize: 8192,
    onChunk: (length) => {
      largest = Math.max(largest, length);
      return true;
    },
  });
  const writing = writeThenEnd(source, bytes);
  const received = await readToEnd(sink);
  await Promise.all([piped, writing]);
  assert.deepEqual(received, bytes);
  assert.ok(largest > 1024 && largest <= 8192, `largest read ${largest}`);
  for (const conn of [source, from, to]) conn.close();
});
