import assert from "node:assert/strict";
import { LAB_PREFIX, newLabId, planLab } from "./_plan.ts";
import { internetRuleset, routerRuleset } from "./_ruleset.ts";

Deno.test("planLab keeps interface names within 15 chars and namespace names unique per run", () => {
  const plan = planLab("123-abcd", {
    natA: "symmetric",
    natB: "endpoint-independent",
    delayMs: 20,
    rateMbit: 10,
  });
  const names = plan.namespaces.map((ns) => ns.name);
  assert.equal(new Set(names).size, names.length);
  for (const name of names) assert.ok(name.startsWith(`${LAB_PREFIX}123-abcd-`), name);
  for (const [a, b] of plan.veths) {
    assert.ok(a.ifname.length <= 15 && b.ifname.length <= 15, `${a.ifname} ${b.ifname}`);
    assert.ok(names.includes(a.ns) && names.includes(b.ns));
  }
  assert.equal(plan.delayLines.length, 3, "one delay line per public link");
  assert.ok(names.some((name) => name.endsWith("-wa")));
});

Deno.test("planLab puts both LANs on 192.168.1.0/24 and can give both hosts the same IP", () => {
  const apart = planLab("1-0000", { natA: "symmetric", natB: "symmetric" });
  assert.ok(apart.hostA.ip.startsWith("192.168.1.") && apart.hostB.ip.startsWith("192.168.1."));
  assert.notEqual(apart.hostA.ip, apart.hostB.ip);
  assert.notEqual(apart.hostA.ip, apart.hostA2.ip);
  assert.equal(apart.hostA.publicIp, apart.routerA.publicIp);
  const same = planLab("1-0000", { natA: "symmetric", natB: "symmetric", samePrivateIp: true });
  assert.equal(same.hostA.ip, same.hostB.ip);
  assert.equal(same.delayLines.length, 0, "no delay line without delayMs");
});

Deno.test("planLab gives hosts behind NAT kind none their public address", () => {
  const plan = planLab("1-0000", { natA: "none", natB: "endpoint-independent" });
  assert.equal(plan.hostA.ip, plan.hostA.publicIp);
  assert.ok(plan.hostA.ip.startsWith("198.51.100."));
  assert.equal(plan.hostB.publicIp, plan.routerB.publicIp);
});

Deno.test("planLab rejects an unknown NAT kind and out-of-range shaping", () => {
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => planLab("1-0000", { natA: "full-cone" as any, natB: "none" }),
    (e: Error) => e instanceof TypeError && e.message.includes('"full-cone"'),
  );
  assert.throws(
    () => planLab("1-0000", { natA: "none", natB: "none", lossPercent: 120 }),
    (e: Error) => e instanceof RangeError && e.message.includes("lossPercent is 120"),
  );
  assert.throws(
    () => planLab("1-0000", { natA: "none", natB: "none", delayMs: -1 }),
    RangeError,
  );
});

Deno.test("newLabId starts with the pid and differs between calls", () => {
  const a = newLabId(4242);
  assert.match(a, /^4242-[0-9a-f]{4}$/);
  const ids = new Set(Array.from({ length: 50 }, () => newLabId(4242)));
  assert.ok(ids.size > 40);
});

Deno.test("routerRuleset chooses masquerade by NAT kind and adds hairpin rules only when asked", () => {
  const base = { publicIp: "198.51.100.2", lanCidr: "192.168.1.0/24" };
  const eim = routerRuleset({ ...base, nat: "endpoint-independent", hairpin: false });
  assert.match(eim, /oifname "wan" masquerade\n/);
  assert.doesNotMatch(eim, /hairpin/);
  assert.match(eim, /ct state established,related accept/);
  const symmetric = routerRuleset({ ...base, nat: "symmetric", hairpin: true });
  assert.match(symmetric, /masquerade fully-random/);
  assert.match(symmetric, /dnat ip to udp dport map @hairpin/);
  assert.match(symmetric, /snat ip to 198\.51\.100\.2/);
  assert.doesNotMatch(routerRuleset({ ...base, nat: "none", hairpin: true }), /masquerade/);
});

Deno.test("internetRuleset drops the given share on every link both ways, nothing at 0 %", () => {
  assert.equal(internetRuleset({ links: ["to-a"], lossPercent: 0 }), "");
  const rules = internetRuleset({ links: ["to-a", "to-b"], lossPercent: 2.5 });
  assert.match(rules, /iifname \{ "to-a", "to-b" \} numgen random mod 1000000 < 25000 drop/);
  assert.match(rules, /oifname \{ "to-a", "to-b" \} numgen random mod 1000000 < 25000 drop/);
});

Deno.test("routerRuleset drops forwarded UDP before conntrack accepts anything when blockUdp is set", () => {
  const base = { publicIp: "198.51.100.2", lanCidr: "192.168.1.0/24", hairpin: false };
  for (const nat of ["endpoint-independent", "symmetric", "none"] as const) {
    const blocked = routerRuleset({ ...base, nat, blockUdp: true });
    const forward = blocked.slice(blocked.indexOf("chain forward"));
    assert.match(forward, /policy (drop|accept);\n {4}meta l4proto udp drop\n/, nat);
    assert.doesNotMatch(routerRuleset({ ...base, nat }), /l4proto udp drop/, nat);
  }
});
