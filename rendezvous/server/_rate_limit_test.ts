import { RateLimiter } from "./_rate_limit.ts";
import { assert, assertEquals, assertThrows } from "../testing/mod.ts";

function setup(maxKeys = 100) {
  const clock = { now: 0 };
  const limiter = new RateLimiter({ ratePerSecond: 50, burst: 100, maxKeys, now: () => clock.now });
  return { clock, limiter };
}

function count(limiter: RateLimiter, key: string, tries: number): number {
  let allowed = 0;
  for (let i = 0; i < tries; i++) if (limiter.allow(key)) allowed++;
  return allowed;
}

Deno.test("RateLimiter allows a burst, then refills at the configured rate", () => {
  const { clock, limiter } = setup();
  assertEquals(count(limiter, "a", 500), 100);
  clock.now = 100; // 0.1 s = 5 tokens
  assertEquals(count(limiter, "a", 500), 5);
  clock.now = 100_000; // long idle: refill caps at the burst
  assertEquals(count(limiter, "a", 500), 100);
});

Deno.test("RateLimiter keeps sources apart", () => {
  const { limiter } = setup();
  assertEquals(count(limiter, "a", 500), 100);
  assertEquals(count(limiter, "b", 500), 100);
});

Deno.test("RateLimiter bounds the keys it tracks and forgets idle ones first", () => {
  const { clock, limiter } = setup(100);
  assertEquals(count(limiter, "busy", 200), 100);
  for (let i = 0; i < 99; i++) limiter.allow(`idle${i}`);
  clock.now = 1000; // the idle buckets refill fully; "busy" refills 50 of 100
  for (let i = 0; i < 10_000; i++) limiter.allow(`new${i}`);
  assert(limiter.size <= 100, `tracks ${limiter.size} keys`);
});

Deno.test("RateLimiter keeps a busy source limited while idle sources churn", () => {
  const { clock, limiter } = setup(100);
  assertEquals(count(limiter, "busy", 200), 100);
  for (let i = 0; i < 98; i++) limiter.allow(`idle${i}`);
  clock.now = 2000;
  limiter.allow("fresh1"); // full: evicts the refilled idle buckets, keeps "busy"
  limiter.allow("fresh2");
  assertEquals(count(limiter, "busy", 500), 100);
});

Deno.test("RateLimiter rejects nonsensical settings", () => {
  assertThrows(
    () => new RateLimiter({ ratePerSecond: 0, burst: 1, maxKeys: 1, now: () => 0 }),
    RangeError,
    "ratePerSecond",
  );
});
