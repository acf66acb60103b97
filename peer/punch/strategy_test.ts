import assert from "node:assert/strict";
import { IPV6_BEFORE_RELAY_MS, type NatMapping, planPunch, type RelayMode } from "./strategy.ts";

const EI = "endpoint-independent";
const ED = "endpoint-dependent";

/** [ours, the peer's, birthday role, ms before the relay with relay "auto", the same with IPv6]. */
const TABLE: Array<[NatMapping, NatMapping, "spray" | "sockets" | undefined, number, number]> = [
  ["none", "none", undefined, 5_000, 5_000],
  ["none", EI, undefined, 5_000, 5_000],
  // The peer without a NAT is reachable: the endpoint-dependent side dials it.
  ["none", ED, undefined, 5_000, 5_000],
  [EI, "none", undefined, 5_000, 5_000],
  [EI, EI, undefined, 5_000, 5_000],
  [EI, ED, "spray", 10_000, 10_000],
  [ED, "none", undefined, 5_000, 5_000],
  [ED, EI, "sockets", 10_000, 10_000],
  // Two endpoint-dependent NATs: only the relay connects over IPv4, so it starts at once,
  // unless both peers have global IPv6 (no NAT there), which gets a head start.
  [ED, ED, undefined, 0, IPV6_BEFORE_RELAY_MS],
];

Deno.test("planPunch follows the decision table for every NAT pair, relay mode and IPv6", () => {
  for (const [self, peer, birthday, relayAfterV4, relayAfterV6] of TABLE) {
    for (
      const [relay, ipv6] of (["auto", "never", "only"] as RelayMode[]).flatMap((mode) =>
        [false, true].map((v6) => [mode, v6] as const)
      )
    ) {
      const label = `${self} / ${peer} / relay ${relay} / ipv6 ${ipv6}`;
      const relayAfterMs = ipv6 ? relayAfterV6 : relayAfterV4;
      const plan = planPunch({ self, peer, ipv6 }, relay);
      assert.match(plan.note, new RegExp(`ours ${self}, the peer's ${peer}`), label);
      if (relay === "only") {
        assert.deepEqual(
          { direct: plan.direct, birthday: plan.birthday, relayAfterMs: plan.relayAfterMs },
          { direct: false, birthday: undefined, relayAfterMs: 0 },
          label,
        );
        continue;
      }
      assert.equal(plan.direct, true, label);
      assert.equal(plan.birthday, birthday, label);
      assert.equal(plan.relayAfterMs, relay === "never" ? undefined : relayAfterMs, label);
    }
  }
});

Deno.test("planPunch says why two endpoint-dependent NATs cannot connect directly", () => {
  assert.match(planPunch({ self: ED, peer: ED }, "auto").note, /no direct path exists/);
});

Deno.test("planPunch tries IPv6 first when both NATs are endpoint-dependent and both peers have it", () => {
  const plan = planPunch({ self: ED, peer: ED, ipv6: true }, "auto");
  assert.equal(plan.relayAfterMs, IPV6_BEFORE_RELAY_MS);
  assert.match(plan.note, /no direct path exists over IPv4; both peers have global IPv6/);
});
