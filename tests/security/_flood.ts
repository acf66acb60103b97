/**
 * A paced, bounded UDP flood against a rendezvous server, from many sockets
 * on other loopback addresses (127.0.0.2, 127.0.0.3, ...): random junk,
 * junk behind the rendezvous magic, and well-formed but bogus `register`
 * requests (random roles, client ids and nameplates, padded so the server
 * must answer them). Stops by itself after `durationMs`.
 */
import { encodeMessage, MAX_REPLY_SIZE } from "../../rendezvous/mod.ts";

export interface FloodOptions {
  /** First loopback host used is 127.0.0.2; one socket per host. */
  sockets: number;
  /** Datagrams per second, all sockets together. */
  ratePerSecond: number;
  durationMs: number;
  /** Nameplates of the bogus registrations are drawn from this range (keep it clear of the honest one). */
  nameplates: { min: number; max: number };
  signal?: AbortSignal;
}

export interface FloodReport {
  sent: { random: number; magic: number; register: number };
  /** Datagrams the server sent back to the flood sockets (answers to bogus registrations). */
  replies: number;
  sendErrors: number;
  /** When sending started and stopped (performance.now()). */
  startedAt: number;
  stoppedAt: number;
}

const TICK_MS = 10;

function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  crypto.getRandomValues(out);
  return out;
}

function randomInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

function bogusRegister(nameplates: FloodOptions["nameplates"]): Uint8Array {
  const role = Math.random() < 0.5 ? "send" : "receive";
  return encodeMessage({
    type: "register",
    role,
    clientId: randomBytes(16),
    nameplate: String(randomInt(nameplates.min, nameplates.max)),
    candidates: [{ transport: "udp", hostname: "10.9.8.7", port: randomInt(1, 65535) }],
    ...(role === "send" ? { fingerprint: randomBytes(32) } : {}),
  }, { padTo: MAX_REPLY_SIZE });
}

/** One datagram of the mix: a third each of junk, magic-prefixed junk and bogus registrations. */
function nextDatagram(
  index: number,
  options: FloodOptions,
): [kind: keyof FloodReport["sent"], Uint8Array] {
  switch (index % 3) {
    case 0:
      return ["random", randomBytes(randomInt(1, 1400))];
    case 1: {
      const junk = randomBytes(randomInt(6, 1300));
      junk.set([0x50, 0x32, 0x52, 0x56, 1], 0); // "P2RV", version 1, then garbage
      return ["magic", junk];
    }
    default:
      return ["register", bogusRegister(options.nameplates)];
  }
}

/** Floods `target` until `durationMs` passed or `signal` aborts. */
export async function flood(target: Deno.NetAddr, options: FloodOptions): Promise<FloodReport> {
  if (options.sockets < 1 || options.sockets > 250) throw new RangeError("sockets: 1..250");
  const sockets = Array.from(
    { length: options.sockets },
    (_, index) =>
      Deno.listenDatagram({ transport: "udp", hostname: `127.0.0.${index + 2}`, port: 0 }),
  );
  const report: FloodReport = {
    sent: { random: 0, magic: 0, register: 0 },
    replies: 0,
    sendErrors: 0,
    startedAt: performance.now(),
    stoppedAt: 0,
  };
  const readers = sockets.map(async (socket) => {
    try {
      for (;;) {
        await socket.receive();
        report.replies++;
      }
    } catch { /* closed */ }
  });
  let total = 0;
  try {
    const deadline = report.startedAt + options.durationMs;
    while (!options.signal?.aborted && performance.now() < deadline) {
      // Catch up to the schedule, never beyond it: the rate is an upper bound.
      const due = Math.floor((performance.now() - report.startedAt) / 1000 * options.ratePerSecond);
      const batch: Promise<void>[] = [];
      for (; total < due; total++) {
        const [kind, data] = nextDatagram(total, options);
        report.sent[kind]++;
        batch.push(
          sockets[total % sockets.length].send(data, target).then(
            () => {},
            () => void report.sendErrors++,
          ),
        );
      }
      await Promise.all(batch);
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
  } finally {
    report.stoppedAt = performance.now();
    for (const socket of sockets) socket.close();
    await Promise.all(readers);
  }
  return report;
}
