/**
 * A paced, bounded UDP flood against a rendezvous server, from many sockets
 * on other loopback addresses (127.0.0.2, 127.0.0.3, ...) or all on one
 * (`hostname`): random junk, junk behind the rendezvous header, well-formed
 * `register` requests without a cookie and with a wrong one (random roles,
 * client ids and nameplates, padded so the server must answer them), and
 * replays, from every socket, of one valid registration that a first socket
 * made with its own cookie. Stops by itself after `durationMs`.
 */
import {
  decodeMessage,
  encodeMessage,
  MAX_REPLY_SIZE,
  PROTOCOL_VERSION,
  type RendezvousMessage,
} from "../../rendezvous/mod.ts";

export interface FloodOptions {
  /** One socket per loopback host from 127.0.0.2 on, or all on `hostname`. */
  sockets: number;
  /** Bind every socket on this address (a flood from the honest peers' own IP). */
  hostname?: string;
  /** Datagrams per second, all sockets together. */
  ratePerSecond: number;
  durationMs: number;
  /** Nameplates of the bogus registrations are drawn from this range (keep it clear of the honest one). */
  nameplates: { min: number; max: number };
  /** Called once the flood has its replayable datagram and starts sending. */
  onStart?: () => void;
  /** Called after each batch with the datagrams sent so far, all kinds together. */
  onSent?: (total: number) => void;
  signal?: AbortSignal;
}

/** What was sent, by kind. */
export interface FloodSent {
  random: number;
  magic: number;
  register: number;
  wrongCookie: number;
  replay: number;
}

export interface FloodReport {
  sent: FloodSent;
  /** Datagrams the server sent back to the flood sockets (cookie answers, and the one proven reply). */
  replies: number;
  sendErrors: number;
  /** When sending started and stopped (performance.now()). */
  startedAt: number;
  stoppedAt: number;
}

const TICK_MS = 10;
const KINDS: readonly (keyof FloodSent)[] = [
  "random",
  "magic",
  "register",
  "wrongCookie",
  "replay",
];

function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  crypto.getRandomValues(out);
  return out;
}

function randomInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

function bogusRegister(nameplates: FloodOptions["nameplates"], cookie?: Uint8Array): Uint8Array {
  const role = Math.random() < 0.5 ? "send" : "receive";
  return encodeMessage({
    type: "register",
    role,
    clientId: randomBytes(16),
    nameplate: String(randomInt(nameplates.min, nameplates.max)),
    candidates: [{ transport: "udp", hostname: "10.9.8.7", port: randomInt(1, 65535) }],
    ...(role === "send" ? { fingerprint: randomBytes(32) } : {}),
    ...(cookie ? { cookie } : {}),
  }, { padTo: MAX_REPLY_SIZE });
}

/** One datagram of the mix: a fifth of each kind. */
function nextDatagram(
  index: number,
  options: FloodOptions,
  valid: Uint8Array,
): [keyof FloodSent, Uint8Array] {
  const kind = KINDS[index % KINDS.length];
  switch (kind) {
    case "random":
      return [kind, randomBytes(randomInt(1, 1400))];
    case "magic": {
      const junk = randomBytes(randomInt(6, 1300));
      junk.set([0x50, 0x32, 0x52, 0x56, PROTOCOL_VERSION], 0); // "P2RV", this version, then garbage
      return [kind, junk];
    }
    case "register":
      return [kind, bogusRegister(options.nameplates)];
    case "wrongCookie":
      return [kind, bogusRegister(options.nameplates, randomBytes(16))];
    default:
      return [kind, valid];
  }
}

/**
 * A registration made valid with the cookie of a socket of its own (a
 * receiver guessing a nameplate of the flood's range); replayed from any other
 * address it proves nothing.
 */
async function provenRegistration(
  hostname: string,
  target: Deno.NetAddr,
  options: FloodOptions,
): Promise<Uint8Array> {
  // A pending receive cannot be cancelled: an unanswered one settles when the socket closes.
  const socket = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
  const clientId = randomBytes(16);
  const observe = encodeMessage({ type: "observe", clientId }, { padTo: MAX_REPLY_SIZE });
  try {
    for (let attempt = 0; attempt < 20; attempt++) {
      options.signal?.throwIfAborted();
      await socket.send(observe, target);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const reply = await Promise.race([
        socket.receive().then(([data]) => data),
        new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), 250)),
      ]);
      clearTimeout(timer);
      if (reply === undefined) continue;
      const message: RendezvousMessage = decodeMessage(reply);
      if (message.type !== "cookie") continue;
      return encodeMessage({
        type: "register",
        role: "receive",
        clientId,
        nameplate: String(options.nameplates.max),
        candidates: [],
        cookie: message.cookie,
      }, { padTo: MAX_REPLY_SIZE });
    }
  } finally {
    socket.close();
  }
  throw new Error(`No cookie from ${target.hostname}:${target.port} for the flood's replays`);
}

/** Floods `target` until `durationMs` passed or `signal` aborts. */
export async function flood(target: Deno.NetAddr, options: FloodOptions): Promise<FloodReport> {
  if (options.sockets < 1 || options.sockets > 250) throw new RangeError("sockets: 1..250");
  const sockets = Array.from(
    { length: options.sockets },
    (_, index) =>
      Deno.listenDatagram({
        transport: "udp",
        hostname: options.hostname ?? `127.0.0.${index + 2}`,
        port: 0,
      }),
  );
  const report: FloodReport = {
    sent: { random: 0, magic: 0, register: 0, wrongCookie: 0, replay: 0 },
    replies: 0,
    sendErrors: 0,
    startedAt: performance.now(),
    stoppedAt: 0,
  };
  let readers: Promise<void>[] = [];
  let total = 0;
  try {
    const valid = await provenRegistration(options.hostname ?? "127.0.0.2", target, options);
    readers = sockets.map(async (socket) => {
      try {
        for (;;) {
          await socket.receive();
          report.replies++;
        }
      } catch { /* closed */ }
    });
    report.startedAt = performance.now();
    options.onStart?.();
    const deadline = report.startedAt + options.durationMs;
    while (!options.signal?.aborted && performance.now() < deadline) {
      // Catch up to the schedule, never beyond it: the rate is an upper bound.
      const due = Math.floor((performance.now() - report.startedAt) / 1000 * options.ratePerSecond);
      const batch: Promise<void>[] = [];
      for (; total < due; total++) {
        const [kind, data] = nextDatagram(total, options, valid);
        report.sent[kind]++;
        batch.push(
          sockets[total % sockets.length].send(data, target).then(
            () => {},
            () => void report.sendErrors++,
          ),
        );
      }
      await Promise.all(batch);
      options.onSent?.(total);
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
  } finally {
    report.stoppedAt = performance.now();
    for (const socket of sockets) socket.close();
    await Promise.all(readers);
  }
  return report;
}

/** All datagrams sent. */
export function totalSent(report: FloodReport): number {
  return Object.values(report.sent).reduce((sum, count) => sum + count, 0);
}
