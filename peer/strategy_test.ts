import assert from "node:assert/strict";
import { type NatMapping, planPunch, type RelayMode } from "./strategy.ts";

const EI = "endpoint-independent";
const ED = "endpoint-dependent";

/** [ours, the peer's, birthday role, ms before the relay with relay "auto"]. */
const TABLE: Array<[NatMapping, NatMapping, "spray" | "sockets" | undefined, number]> = [
  ["none", "none", undefined, 5_000],
  ["none", EI, undefined, 5_000],
  // The peer without a NAT is reachable: the endpoint-dependent side dials it.
  ["none", ED, undefined, 5_000],
  [EI, "none", undefined, 5_000],
  [EI, EI, undefined, 5_000],
  [EI, ED, "spray", 10_000],
  [ED, "none", undefined, 5_000],
  [ED, EI, "sockets", 10_000],
  // Two endpoint-dependent NATs: only the relay connects, so it starts at once.
  [ED, ED, undefined, 0],
];

Deno.test("planPunch follows the decision table for every NAT pair and relay mode", () => {
  for (const [self, peer, birthday, relayAfterMs] of TABLE) {
    for (const relay of ["auto", "never", "only"] as RelayMode[]) {
      const label = `${self} / ${peer} / relay ${relay}`;
      const plan = planPunch({ self, peer }, relay);
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
