/**
 * A rendezvous address on a network that drops UDP: its UDP port is bound and
 * never answers, its TCP port (same number) forwards each connection to the
 * real server's TCP port. Clients must notice and register over TCP.
 */
import { pipeConn } from "../base/mod.ts";

export interface UdpBlockedFront extends AsyncDisposable {
  /** `--rendezvous 127.0.0.1:PORT --no-local` (nothing multicast on the host's networks) */
  rendezvous: string[];
}

export function udpBlockedFront(server: { hostname: string; port: number }): UdpBlockedFront {
  const tcp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (tcp.addr as Deno.NetAddr).port;
  const udp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port });
  const conns = new Set<Deno.Conn>();
  const pipes: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of tcp) {
      conns.add(conn);
      try {
        const upstream = await Deno.connect({ hostname: server.hostname, port: server.port });
        conns.add(upstream);
        pipes.push(pipe(conn, upstream), pipe(upstream, conn));
      } catch {
        conn.close();
      }
    }
  })().catch(() => {});
  return {
    rendezvous: ["--rendezvous", `127.0.0.1:${port}`, "--no-local"],
    async [Symbol.asyncDispose]() {
      tcp.close();
      udp.close();
      await accepting;
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // Closed by its pipe.
        }
      }
      await Promise.allSettled(pipes);
    },
  };
}

async function pipe(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  // One side went away; dispose closes the rest.
  await pipeConn(from, to).catch(() => {});
}
