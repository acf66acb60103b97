import { COOKIE_PERIOD_MS, CookieMinter } from "./_cookie.ts";
import { addr, assertEquals, assertThrows, bytes } from "../testing/mod.ts";

function setup(secret = bytes(32, 7)) {
  const clock = { now: 1_700_000_000_000 };
  return { clock, minter: new CookieMinter({ secret, now: () => clock.now }) };
}

const HOST = addr("203.0.113.5", 4000);

Deno.test("a cookie is 16 bytes, the same for one source within a period, and verifies", () => {
  const { clock, minter } = setup();
  const cookie = minter.mint(HOST);
  assertEquals(cookie.length, 16);
  clock.now += 1;
  assertEquals(minter.check(cookie, HOST), "current");
});

Deno.test("a cookie is valid through the next period (to be refreshed), then expires", () => {
  const { clock, minter } = setup();
  clock.now = Math.floor(clock.now / COOKIE_PERIOD_MS) * COOKIE_PERIOD_MS + COOKIE_PERIOD_MS - 1;
  const cookie = minter.mint(HOST);
  clock.now += 1; // the next period starts
  assertEquals(minter.check(cookie, HOST), "previous");
  clock.now += COOKIE_PERIOD_MS - 1;
  assertEquals(minter.check(cookie, HOST), "previous");
  clock.now += 1;
  assertEquals(minter.check(cookie, HOST), "invalid");
});

Deno.test("a cookie does not verify for another IP, another port, or under another secret", () => {
  const { minter } = setup();
  const cookie = minter.mint(HOST);
  assertEquals(minter.check(cookie, addr("203.0.113.6", 4000)), "invalid");
  assertEquals(minter.check(cookie, addr("203.0.113.5", 4001)), "invalid");
  assertEquals(setup(bytes(32, 8)).minter.check(cookie, HOST), "invalid");
  // Another instance with the same secret and clock accepts it (a shared deployment).
  assertEquals(setup().minter.check(cookie, HOST), "current");
});

Deno.test("missing, short and tampered cookies are invalid", () => {
  const { minter } = setup();
  const cookie = minter.mint(HOST);
  assertEquals(minter.check(undefined, HOST), "invalid");
  assertEquals(minter.check(cookie.subarray(0, 15), HOST), "invalid");
  for (let i = 0; i < cookie.length; i++) {
    const tampered = cookie.slice();
    tampered[i] ^= 0x01;
    assertEquals(minter.check(tampered, HOST), "invalid");
  }
});

Deno.test("CookieMinter refuses a short secret and a bad period", () => {
  assertThrows(() => new CookieMinter({ secret: bytes(8, 1), now: Date.now }), RangeError);
  assertThrows(
    () => new CookieMinter({ secret: bytes(32, 1), now: Date.now, periodMs: 0 }),
    RangeError,
  );
});
