/**
 * Byte copying between two TCP (or TLS) connections: the TCP relay's splice
 * and the tests' forwarders.
 */
import { writeAll } from "./write_all.ts";

export interface PipeConnOptions {
  /**
   * Bytes per read. Default 256 KiB: at 64 KiB the sender's former relay bridge
   * (a loopback splice) spent 1.7 CPU s/GiB on these calls (bench/loopback.ts, relay
   * over TCP, TLS on one side); at 256 KiB a third of that. A plain TCP-to-TCP copy gains less (1 GiB
   * on loopback, same run, load 16: 0.65-0.70 CPU s/GiB at 64 KiB, 0.53-0.59 at
   * 256 KiB), so the TCP relay (rendezvous/relay/_tcp_relay.ts) asks for 64 KiB,
   * bounding the memory of its many channels; both sizes copy at the same speed.
   */
  bufferSize?: number;
  /**
   * Grow the buffers (doubling) up to this size while reads fill them: a
   * bulk copy then takes fewer, larger calls while a quiet connection keeps
   * `bufferSize`. Default: `bufferSize` (no growth).
   */
  maxBufferSize?: number;
  /**
   * Sees each chunk's length before it is written: `false` stops the copy
   * there (the chunk is not written, no FIN passed on); a promise holds the
   * next read until it settles (a rate cap pacing the source).
   */
  onChunk?: (length: number) => boolean | Promise<void>;
}

/**
 * Copies everything `from` sends to `to`, then passes the end on as a FIN
 * (`closeWrite`), so a half-closed stream stays half-closed. Two buffers: the
 * next read runs while the last chunk is written, so neither socket waits on
 * the other's system call. Resolves true once the end was passed on, false
 * when `onChunk` stopped it; rejects when either connection fails (closing
 * them is the caller's choice).
 */
export async function pipeConn(
  from: Deno.Conn,
  to: Deno.Conn,
  options: PipeConnOptions = {},
): Promise<boolean> {
  let size = options.bufferSize ?? 256 * 1024;
  const maxSize = Math.max(size, options.maxBufferSize ?? size);
  const buffers = [new Uint8Array(size), new Uint8Array(size)];
  let writing: Promise<void> = Promise.resolve();
  // Rejects as soon as the write in flight fails, so a read that waits for more is not waited on.
  let failed = new Promise<never>(() => {});
  try {
    for (let turn = 0;; turn ^= 1) {
      // This buffer's last write is done (awaited before the other one's began): it may grow.
      if (buffers[turn].length < size) buffers[turn] = new Uint8Array(size);
      const n = await Promise.race([from.read(buffers[turn]), failed]);
      if (n === null) break;
      if (n === size) size = Math.min(size * 2, maxSize);
      const admitted = options.onChunk?.(n) ?? true;
      if (admitted === false) return false;
      // The other buffer's write is done before this one starts: that buffer is read into next.
      await writing;
      writing = writeAll(to, buffers[turn].subarray(0, n));
      failed = writing.then(() => new Promise<never>(() => {}));
      failed.catch(() => {});
      if (admitted !== true) await Promise.race([admitted, failed]);
    }
  } finally {
    await writing.catch(() => {});
  }
  await writing;
  await to.closeWrite();
  return true;
}
