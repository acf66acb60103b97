/**
 * Holds idle TCP connections open to a server, as the lock-out of issue #21
 * did: `COUNT` connections to `HOST:PORT`, spread over `ADDRESSES` loopback
 * source addresses (127.0.1.1, 127.0.1.2, ...), never sending a byte; each
 * one the server closes is opened again `REOPEN_MS` later, until killed.
 * Prints JSON lines: `holding` once `COUNT` connections have been opened,
 * then `stats` every second (`open`: connected now; `opened`, `dropped`:
 * since start).
 *
 *   deno run -A tests/security/tcp_idle_holder.ts HOST PORT COUNT ADDRESSES REOPEN_MS
 */
import net from "node:net";

interface Counts {
  open: number;
  opened: number;
  dropped: number;
  failed: number;
}

function hold(
  target: { host: string; port: number },
  localAddress: string,
  reopenMs: number,
  counts: Counts,
  onOpened: () => void,
): void {
  const socket = net.connect({ ...target, localAddress });
  let connected = false;
  socket.on("connect", () => {
    connected = true;
    counts.open++;
    counts.opened++;
    onOpened();
  });
  socket.on("data", () => {}); // the server has nothing to say to a silent client; drain it anyway
  socket.on("error", () => {});
  socket.on("close", () => {
    if (connected) {
      counts.open--;
      counts.dropped++;
    } else {
      counts.failed++;
    }
    // The attacker's pace: back again shortly after each drop.
    setTimeout(() => hold(target, localAddress, reopenMs, counts, onOpened), reopenMs);
  });
}

function main(args: string[]): void {
  const [host, port, count, addresses, reopenMs] = args;
  const counts: Counts = { open: 0, opened: 0, dropped: 0, failed: 0 };
  const total = Number(count);
  let announced = false;
  const onOpened = () => {
    if (announced || counts.opened < total) return;
    announced = true;
    console.log(JSON.stringify({ type: "holding", ...counts }));
  };
  for (let i = 0; i < total; i++) {
    const address = `127.0.1.${1 + (i % Number(addresses))}`;
    hold({ host, port: Number(port) }, address, Number(reopenMs), counts, onOpened);
  }
  setInterval(() => console.log(JSON.stringify({ type: "stats", ...counts })), 1000);
}

if (import.meta.main) main(Deno.args);
