/**
 * `deno task bench:rendezvous`: pairs simulated senders and receivers (the
 * load client in `_rendezvous_load.ts`) as fast as the server answers,
 * bounded in count and time, and reports each scenario's requests per server
 * core-second beside the bare Deno UDP echo's. Scenarios, each on fresh processes:
 *   (a) one instance, rooms in memory, and the bare echo under the same requests,
 *       alternating in slices (`--slices 5`) within `--seconds` so that the shared
 *       machine's load meets both alike: their ratio is the figure that counts;
 *   (b) one instance on Redis;
 *   (c) two instances on one Redis, each sender at one and its receiver at the other;
 * then the RSS that open (waiting) rooms cost, in memory and in Redis, per 100,000.
 *
 *   deno task bench:rendezvous [--pairings 30000] [--seconds 20] [--concurrency 128]
 *                              [--sources 2048] [--rooms 90000] [--server path/to/mod.ts]
 *                              [--only echo,a,b,c,rss] [--cpu-prof DIR] [--compare PATH]
 *                              [--v8-flags FLAGS]
 *
 * `--cpu-prof DIR`: every instance writes a V8 CPU profile into DIR as it ends
 * (open it in Chrome's DevTools), to see where a server's time goes under this load.
 * `--compare path/to/rendezvous/mod.ts`: another checkout's server (same wire version)
 * runs in (a)'s slices too, so before/after is a ratio from one run.
 * `--v8-flags`: added to every instance's, e.g. `--prof,--logfile=/tmp/rv-%p.log`
 * for `node --prof-process`, or `--trace-gc` (its lines go to stderr).
 *
 * Like with like: the echo answers the same padded requests from the same
 * sources, three datagrams in and four out per pairing (each row shows its
 * counts), so the ratio is the server's CPU per request against the floor
 * that a Deno UDP socket loop alone costs. Where the rest goes (2026-12-07,
 * V8 tick profile and perf, 2 cores at load 5-9): the socket ops cost the
 * server what they cost the echo (the same syscalls per request: one
 * recvfrom, 1.33 sendto); the difference is the request itself, with no
 * single large part: decoding, the cookie MAC and the two budgets, the
 * room table's maps, the answer's encoding, and the collector (rooms survive
 * the young generation; the runtime allocates ~7 KB per pairing for the
 * socket ops alone, echo or server). Measured again (second session, load
 * 5-9): the echo costs 80-100 µs per pairing, the server 160-200. The
 * request path alone, run in process on the same requests without sockets,
 * takes 39-43 µs of CPU per pairing at 30,000 rooms, in parts of at most a
 * quarter: the room table ~25 %, replies and pushes ~20 %, the two budgets
 * ~9 %, the cookie MAC ~6 %, decoding ~9 %, encoding ~9 %, collection 7-16 %.
 * The rest of the gap (~40 µs) is not pinned down; one perf run over each
 * process's life (start-up included) showed more kernel time per pairing in
 * the server than in the echo for the same syscalls, and V8's helper threads
 * at 16 % of the server's samples against 7 % of the echo's. 0.7x leaves the
 * server ~35 µs per pairing over the echo.
 */
import { REDIS_MISSING, TestRedis } from "../scripts/redis_process.ts";
import { cpuMs, percentile } from "./_bench_util.ts";
import { Instance } from "./_instance_process.ts";
import {
  clientId,
  type Codec,
  loadCodec,
  pairOnce,
  registerRequest,
  Sources,
} from "./_rendezvous_load.ts";

function flag(name: string, fallback: number): number {
  const index = Deno.args.indexOf(`--${name}`);
  return index >= 0 ? Number(Deno.args[index + 1]) : fallback;
}
const PAIRINGS = flag("pairings", 30_000);
const SECONDS = flag("seconds", 20);
const CONCURRENCY = flag("concurrency", 128);
const SOURCES = flag("sources", 2048);
/** Turns the echo and (a) take each, alternating, within `SECONDS` for both. */
const SLICES = flag("slices", 5);
/** Nameplates stop at 99,999: the RSS per 100,000 rooms is scaled from this many. */
const ROOMS = flag("rooms", 90_000);
const serverArg = Deno.args.indexOf("--server");
const SERVER_MODULE = serverArg >= 0 ? Deno.args[serverArg + 1] : undefined;
const codec = await loadCodec(SERVER_MODULE);
const onlyArg = Deno.args.indexOf("--only");
/** Which parts to run: echo, a, b, c, rss (default all). */
const ONLY = new Set(
  onlyArg >= 0 ? Deno.args[onlyArg + 1].split(",") : ["echo", "a", "b", "c", "rss"],
);
const compareArg = Deno.args.indexOf("--compare");
/** Another checkout's rendezvous `mod.ts`, run beside this one in (a)'s slices. */
const COMPARE_MODULE = compareArg >= 0 ? Deno.args[compareArg + 1] : undefined;
const profileArg = Deno.args.indexOf("--cpu-prof");
/** Where each instance (echo and servers) writes its CPU profile, if asked. */
const PROFILE_DIR = profileArg >= 0 ? Deno.args[profileArg + 1] : undefined;
const v8FlagsArg = Deno.args.indexOf("--v8-flags");
/** V8 flags for every instance (`--prof,--logfile=...`, `--trace-gc`), comma separated. */
const V8_FLAGS = v8FlagsArg >= 0 ? `,${Deno.args[v8FlagsArg + 1]}` : "";
/** An instance of this checkout's server, or of `--server`'s (or of `serverModule`). */
const startInstance = (store?: string, v8Flags = "", serverModule = SERVER_MODULE) =>
  Instance.start(store, { v8Flags: V8_FLAGS + v8Flags, serverModule, cpuProfileDir: PROFILE_DIR });

/**
 * One scenario's pairings, run in slices (`run`) that another scenario's may
 * alternate with, so both meet the same machine; `report` sums them up.
 */
class Pairings implements AsyncDisposable {
  readonly name: string;
  readonly #instances: Instance[];
  readonly #redis?: TestRedis;
  readonly #echo: boolean;
  readonly #sources: Sources;
  readonly #times: number[] = [];
  #before: Record<string, number>[] = [];
  #cpuMs = 0;
  #redisMs = 0;
  #elapsedMs = 0;
  #started = 0;

  constructor(
    name: string,
    instances: Instance[],
    options: { redis?: TestRedis; echo?: boolean; codec?: Codec } = {},
  ) {
    const { redis, echo = false } = options;
    this.#sources = new Sources(SOURCES, options.codec ?? codec);
    this.name = name;
    this.#instances = instances;
    this.#redis = redis;
    this.#echo = echo;
  }

  /** Gets every source its cookie; the counts start after. */
  async prove(): Promise<void> {
    await this.#sources.prove(this.#instances[0].addr, CONCURRENCY);
    this.#before = await Promise.all(this.#instances.map((instance) => instance.stats()));
  }

  /** Pairs for `seconds` (or until `PAIRINGS` in all), counting the CPU it cost. */
  async run(seconds: number): Promise<void> {
    const instances = this.#instances;
    const redisPid = this.#redis?.pid;
    const cpuBefore = await serverCpuMs(instances, this.#redis);
    const redisBefore = redisPid ? cpuMs(redisPid) : 0;
    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    const worker = async () => {
      while (this.#started < PAIRINGS && performance.now() < deadline) {
        const n = this.#started++;
        const senderAt = instances[n % instances.length].addr;
        const receiverAt = instances[(n + 1) % instances.length].addr;
        const echo = this.#echo;
        this.#times.push(await pairOnce(this.#sources, { n, senderAt, receiverAt, echo }));
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    this.#elapsedMs += performance.now() - t0;
    this.#cpuMs += await serverCpuMs(instances, this.#redis) - cpuBefore;
    this.#redisMs += (redisPid ? cpuMs(redisPid) : 0) - redisBefore;
  }

  async report() {
    const times = this.#times.sort((a, b) => a - b);
    const cpuSeconds = this.#cpuMs / 1000;
    const redisSeconds = this.#redisMs / 1000;
    const before = this.#before;
    const stats = await Promise.all(this.#instances.map((instance) => instance.stats()));
    const delta = (name: string) =>
      stats.reduce((sum, s, i) => sum + s[name] - before[i][name], 0) / times.length;
    const serverPairings = stats.reduce((sum, s) => sum + s.pairings, 0);
    const roundTrips = stats.reduce((sum, s) => sum + (s.storeRoundTrips ?? 0), 0);
    return {
      scenario: this.name,
      pairings: times.length,
      "pairings/s": Math.round(times.length / (this.#elapsedMs / 1000)),
      "p50 ms": Number(percentile(times, 0.5).toFixed(2)),
      "p99 ms": Number(percentile(times, 0.99).toFixed(2)),
      // Machine-independent-ish: how many pairings one core of server (+ Redis) CPU buys.
      "server CPU µs/pairing": Math.round(cpuSeconds * 1e6 / times.length),
      "pairings per server core-second": Math.round(times.length / cpuSeconds),
      "of which Redis µs/pairing": Math.round(redisSeconds * 1e6 / times.length),
      // Redis runs on a core of its own in any deployment: what one instance's core buys.
      "pairings per instance core-second": Math.round(times.length / (cpuSeconds - redisSeconds)),
      // The same for the echo and the server, or the comparison is off.
      "datagrams in/out per pairing": `${delta("received").toFixed(2)}/${
        delta("replies").toFixed(2)
      }`,
      "store round trips/pairing": serverPairings
        ? Number((roundTrips / serverPairings).toFixed(2))
        : 0,
      retransmits: this.#sources.retransmits,
      "cookie answers": this.#sources.cookieAnswers,
      "dropped by server": stats.reduce(
        (sum, s) => sum + s.rateLimited + s.tooSmall + s.malformed + (s.storeUnavailable ?? 0),
        0,
      ),
    };
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.#sources[Symbol.asyncDispose]();
  }
}

/**
 * Runs `scenarios` side by side for `SECONDS` in all: `SLICES` turns each, one
 * after another, so that a change in the machine's load (it is shared) meets
 * them all alike; all within one cookie period.
 */
async function alternated(scenarios: Pairings[]) {
  // Proven first, then the run within what is left of the cookie period, or all
  // proven again in the next one (proving takes a while under load: guessing it missed).
  for (;;) {
    for (const scenario of scenarios) await scenario.prove();
    const left = untilNextPeriodMs();
    if (left > SECONDS * 1000 + 3000 || SECONDS * 1000 + 3000 > codec.COOKIE_PERIOD_MS) break;
    await new Promise((resolve) => setTimeout(resolve, left + 100));
  }
  for (let slice = 0; slice < SLICES; slice++) {
    for (const scenario of scenarios) await scenario.run(SECONDS / SLICES / scenarios.length);
  }
  return await Promise.all(scenarios.map((scenario) => scenario.report()));
}

/**
 * Milliseconds until the next cookie period: a run must not cross it, or
 * every source's cookie needs refreshing there (a cookie answer and the
 * request again), and the run measures requests only, as the echo does.
 */
function untilNextPeriodMs(): number {
  return codec.COOKIE_PERIOD_MS - Date.now() % codec.COOKIE_PERIOD_MS;
}

/**
 * Opens `ROOMS` waiting rooms and returns the RSS they added (instance, and
 * Redis if given): from the fresh process, and per room past the first tenth,
 * by when the runtime's own growth under load (its young generation, buffers)
 * has happened, so the second figure is what each further room costs.
 */
async function roomsRss(instance: Instance, redis?: TestRedis) {
  await using sources = new Sources(SOURCES, codec);
  await sources.prove(instance.addr, CONCURRENCY);
  const start = await instance.stats({ live: true });
  const redisStart = redis ? await redisUsedMemory(redis) : 0;
  let opened = 0;
  const open = async (upTo: number) => {
    const worker = async () => {
      while (opened < upTo) {
        const n = opened++;
        const id = clientId();
        const reply = await sources.request(
          n % SOURCES,
          registerRequest(codec, { role: "send", clientId: id }),
          id,
          instance.addr,
        );
        if (reply.type !== "waiting") throw new Error(`sender got ${JSON.stringify(reply)}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  };
  const warm = Math.floor(ROOMS / 10);
  await open(warm);
  const before = await instance.stats({ live: true });
  const redisBefore = redis ? await redisUsedMemory(redis) : 0;
  await open(ROOMS);
  const after = await instance.stats({ live: true });
  const redisAfter = redis ? await redisUsedMemory(redis) : 0;
  const perRoom = (bytes: number, rooms: number) => Math.round(bytes / rooms);
  return {
    rooms: after.rooms,
    "instance RSS MiB at start": Number((start.rss / 2 ** 20).toFixed(1)),
    "instance RSS bytes/room from start": perRoom(after.rss - start.rss, ROOMS),
    "instance RSS bytes/room past 10%": perRoom(after.rss - before.rss, ROOMS - warm),
    "instance live heap bytes/room": perRoom(after.heapUsed - before.heapUsed, ROOMS - warm),
    "Redis used_memory bytes/room": perRoom(redisAfter - redisStart, ROOMS),
    "RSS MiB per 100k rooms (instance past 10% + Redis)": Number(
      (((after.rss - before.rss) / (ROOMS - warm) +
        (redisAfter - redisBefore) / (ROOMS - warm)) * 100_000 / 2 ** 20).toFixed(1),
    ),
  };
}

/** CPU the instances (and Redis) used so far. */
async function serverCpuMs(instances: Instance[], redis?: TestRedis): Promise<number> {
  const stats = await Promise.all(instances.map((instance) => instance.stats()));
  return stats.reduce((sum, s) => sum + s.cpuMs, redis?.pid ? cpuMs(redis.pid) : 0);
}

async function redisUsedMemory(redis: TestRedis): Promise<number> {
  const { stdout } = await new Deno.Command("redis-cli", {
    args: ["-p", String(redis.port), "info", "memory"],
  }).output();
  return Number(new TextDecoder().decode(stdout).match(/used_memory:(\d+)/)?.[1] ?? 0);
}

type Result = Awaited<ReturnType<Pairings["report"]>>;
const results: Result[] = [];
const rss = [];
{
  // The echo and (a) alternate in slices: the ratio that counts is theirs under one load.
  await using echo = ONLY.has("echo") ? await startInstance("echo") : undefined;
  await using a = ONLY.has("a") ? await startInstance() : undefined;
  await using old = ONLY.has("a") && COMPARE_MODULE
    ? await startInstance(undefined, "", COMPARE_MODULE)
    : undefined;
  await using echoLoad = echo &&
    new Pairings("bare UDP echo, same requests", [echo], { echo: true });
  await using oldLoad = old &&
    new Pairings("(a) --compare's server, memory", [old], {
      codec: await loadCodec(COMPARE_MODULE),
    });
  await using aLoad = a && new Pairings("(a) one instance, memory", [a]);
  results.push(
    ...await alternated([echoLoad, oldLoad, aLoad].filter((load) => load !== undefined)),
  );
}
if (ONLY.has("rss")) {
  {
    await using a = await startInstance();
    rss.push({ store: "memory", ...(await roomsRss(a)) });
  }
  // V8 grows its young generation (up to ~3 x 16 MiB) while requests come fast and rooms
  // survive: a fixed cost of load, not of rooms. With it capped, what remains is the rooms'.
  await using capped = await startInstance(undefined, ",--max-semi-space-size=1");
  rss.push({ store: "memory, young generation capped", ...(await roomsRss(capped)) });
}
if (REDIS_MISSING && (ONLY.has("b") || ONLY.has("c"))) {
  console.log(`Skipping the Redis scenarios: ${REDIS_MISSING}`);
} else if (!REDIS_MISSING) {
  if (ONLY.has("b")) {
    await using redis = await TestRedis.start();
    await using b = await startInstance(redis.url);
    await using load = new Pairings("(b) one instance, Redis", [b], { redis });
    results.push(...await alternated([load]));
  }
  if (ONLY.has("c")) {
    await using redis = await TestRedis.start();
    await using c1 = await startInstance(redis.url);
    await using c2 = await startInstance(redis.url);
    await using load = new Pairings("(c) two instances, one Redis", [c1, c2], { redis });
    results.push(...await alternated([load]));
  }
  if (ONLY.has("rss")) {
    await using redis = await TestRedis.start();
    await using b = await startInstance(redis.url);
    rss.push({ store: "redis", ...(await roomsRss(b, redis)) });
  }
}
console.log(
  `Pairings (at most ${PAIRINGS} or ${SECONDS} s each, the echo and (a) alternating in ${SLICES} slices within theirs, ${CONCURRENCY} in flight, ${SOURCES} source addresses, ${navigator.hardwareConcurrency} cores):`,
);
const floor = results.find((result) => result.scenario.startsWith("bare"));
console.table(results.map((result) => ({
  ...result,
  // The figure that counts: CPU per request relative to the bare socket loop's.
  "x echo": floor
    ? Number(
      (result["pairings per instance core-second"] / floor["pairings per instance core-second"])
        .toFixed(2),
    )
    : "",
})));
console.log(`${ROOMS} open (waiting) rooms, scaled to 100,000:`);
console.table(rss);
