/**
 * `deno run -A bench/cookie_mac.ts`: what one rendezvous cookie MAC costs with
 * the hand-written {@link ShortHmac} (rendezvous/wire/_hmac.ts) and with
 * `node:crypto`'s `createHmac` (raw key and KeyObject), in one run, on the
 * cookie's own input (period u32 | IPv4 | port: 10 bytes). The ratio is what
 * justifies keeping the hand-written HMAC; see its header.
 */
import { createHmac, createSecretKey } from "node:crypto";
import { ShortHmac } from "../rendezvous/wire/mod.ts";

const ROUNDS = 3;
const MACS = 200_000;
const key = crypto.getRandomValues(new Uint8Array(32));
const message = crypto.getRandomValues(new Uint8Array(10));
const keyObject = createSecretKey(key);
const short = new ShortHmac(key);

const ways: [string, () => unknown][] = [
  ["ShortHmac", () => short.mac(message)],
  ["createHmac(raw key)", () => createHmac("sha256", key).update(message).digest()],
  ["createHmac(KeyObject)", () => createHmac("sha256", keyObject).update(message).digest()],
];

/** Microseconds per MAC, after a warm-up. */
function measure(mac: () => unknown): number {
  for (let i = 0; i < MACS / 10; i++) mac();
  const start = performance.now();
  for (let i = 0; i < MACS; i++) {
    message[0] = i;
    mac();
  }
  return (performance.now() - start) * 1000 / MACS;
}

for (let round = 1; round <= ROUNDS; round++) {
  const costs = ways.map(([name, mac]) => [name, measure(mac)] as const);
  const base = costs[0][1];
  console.log(
    `round ${round}: ` +
      costs.map(([name, us]) => `${name} ${us.toFixed(2)} µs (x${(us / base).toFixed(1)})`)
        .join(", "),
  );
}
