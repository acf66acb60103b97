import { Admission, type AdmissionOptions } from "./_admission.ts";
import { COOKIE_PERIOD_MS } from "../wire/mod.ts";
import { addr, assertEquals, bytes } from "../testing/mod.ts";

function setup(limits: Partial<AdmissionOptions> = {}) {
  const clock = { now: 0, wall: 1_700_000_000_000 };
  const admission = new Admission({
    cookieSecret: bytes(32, 3),
    ratePerSecond: 1,
    burst: 3,
    ipRatePerSecond: 1,
    ipBurst: 5,
    cookieRatePerSecond: 1,
    cookieBurst: 4,
    maxSources: 100,
    ipKey: (from) => from.hostname,
    now: () => clock.now,
    wallClock: () => clock.wall,
    ...limits,
  });
  return { clock, admission };
}

const UDP = { answerable: true, tcp: false };
const A = addr("198.51.100.7", 5000);

function cookieOf(admission: Admission, from: Deno.NetAddr): Uint8Array {
  const verdict = admission.admit(undefined, from, UDP);
  if (verdict.kind !== "cookie") throw new Error(`expected a cookie, got ${verdict.kind}`);
  return verdict.cookie;
}

Deno.test("Admission answers an unproven source with a cookie and admits it when echoed", () => {
  const { admission } = setup();
  const cookie = cookieOf(admission, A);
  assertEquals(admission.sources, 0); // no per-source state before the proof
  assertEquals(admission.admit(cookie, A, UDP), { kind: "admit" });
  assertEquals(admission.sources, 1);
});

Deno.test("Admission: wrong cookies and cookies replayed from another port get a cookie only", () => {
  const { admission } = setup({ cookieBurst: 100 });
  const cookie = cookieOf(admission, A);
  const replayed = admission.admit(cookie, addr("198.51.100.7", 5001), UDP);
  assertEquals(replayed.kind, "cookie");
  assertEquals(admission.admit(bytes(16, 9), A, UDP).kind, "cookie");
  assertEquals(admission.sources, 0);
});

Deno.test("Admission: cookie answers share one global budget; past it, unproven requests are dropped", () => {
  const { clock, admission } = setup();
  const verdicts = Array.from(
    { length: 10 },
    (_, i) => admission.admit(undefined, addr(`192.0.2.${i + 1}`, 7), UDP).kind,
  );
  assertEquals(verdicts, [...Array(4).fill("cookie"), ...Array(6).fill("unproven")]);
  clock.now += 1000; // one more token
  assertEquals(admission.admit(undefined, A, UDP).kind, "cookie");
  assertEquals(admission.sources, 0);
});

Deno.test("Admission: an unanswerable request (leave) without a cookie is dropped, spending no cookie", () => {
  const { admission } = setup({ cookieBurst: 1 });
  assertEquals(admission.admit(undefined, A, { answerable: false, tcp: false }).kind, "unproven");
  assertEquals(admission.admit(undefined, A, UDP).kind, "cookie");
});

Deno.test("Admission: a proven source has its ip:port budget, its IP a larger one for all ports", () => {
  const { admission } = setup();
  const cookie = cookieOf(admission, A);
  const a = Array.from({ length: 5 }, () => admission.admit(cookie, A, UDP).kind);
  assertEquals(a, ["admit", "admit", "admit", "rateLimited", "rateLimited"]);
  const B = addr("198.51.100.7", 5002);
  const other = cookieOf(admission, B);
  const b = Array.from({ length: 4 }, () => admission.admit(other, B, UDP).kind);
  assertEquals(b, ["admit", "admit", "rateLimited", "rateLimited"]); // 5 per IP in all
  const C = addr("198.51.100.8", 5000); // another IP is untouched
  assertEquals(admission.admit(cookieOf(admission, C), C, UDP).kind, "admit");
});

Deno.test("Admission: last period's cookie is refreshed, charged to the source; older ones are refused", () => {
  const { clock, admission } = setup();
  const cookie = cookieOf(admission, A);
  clock.wall += COOKIE_PERIOD_MS;
  const refreshed = admission.admit(cookie, A, UDP);
  assertEquals([refreshed.kind, admission.sources], ["cookie", 1]);
  if (refreshed.kind !== "cookie") return;
  assertEquals(admission.admit(refreshed.cookie, A, UDP).kind, "admit");
  // The refresh took a token: of the burst of 3, one is left.
  assertEquals(admission.admit(refreshed.cookie, A, UDP).kind, "admit");
  assertEquals(admission.admit(refreshed.cookie, A, UDP).kind, "rateLimited");
  clock.wall += 2 * COOKIE_PERIOD_MS;
  clock.now += 10_000; // buckets full again: an expired cookie is refused anyway
  assertEquals(admission.admit(refreshed.cookie, A, UDP).kind, "cookie");
  assertEquals(admission.admit(refreshed.cookie, A, UDP).kind, "cookie");
});

Deno.test("Admission: over TCP the source is proven by the handshake and only rate-limited", () => {
  const { admission } = setup();
  const tcp = { answerable: true, tcp: true };
  const kinds = Array.from({ length: 4 }, () => admission.admit(undefined, A, tcp).kind);
  assertEquals(kinds, ["admit", "admit", "admit", "rateLimited"]);
});
