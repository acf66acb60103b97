/** Byte copying between two TCP (or TLS) connections, shared by the link's bridges and the tests' forwarders. */

/**
 * Copies everything `from` sends to `to`, then passes the end on as a FIN
 * (`closeWrite`), so a half-closed stream stays half-closed. Rejects when
 * either connection fails; closing them is the caller's choice.
 */
export async function pipeConn(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  // 256 KiB a read: at 64 KiB the sender's relay bridge spent 1.7 CPU s/GiB on
  // these calls (bench/loopback.ts, relay over TCP, TLS on one side); at 256 KiB a
  // third of that. A plain TCP-to-TCP copy gains less (1 GiB on loopback, same run,
  // load 16: 0.65-0.70 CPU s/GiB at 64 KiB, 0.53-0.59 at 256 KiB), so the rendezvous
  // TCP relay (rendezvous/_tcp_relay.ts) keeps 64 KiB, bounding the memory of its
  // many channels; both sizes copy at the same speed.
  const buffer = new Uint8Array(256 * 1024);
  for (;;) {
    const n = await from.read(buffer);
    if (n === null) break;
    for (let offset = 0; offset < n;) offset += await to.write(buffer.subarray(offset, n));
  }
  await to.closeWrite();
}
