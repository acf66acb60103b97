import assert from "node:assert/strict";
import { LAB_PREFIX, newLabId, planLab, RENDEZVOUS_NAME } from "./_plan.ts";
import { internetRuleset, router6Ruleset, routerRuleset } from "./_ruleset.ts";

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

Deno.test("planLab without ipv6 gives no IPv6 address, route or ip6 table anywhere", () => {
  const plan = planLab("1-0000", { natA: "symmetric", natB: "endpoint-independent" });
  for (const ns of plan.namespaces) {
    assert.ok(ns.sysctls.includes("net.ipv6.conf.default.disable_ipv6=1"), ns.role);
    assert.deepEqual(ns.ip.filter((line) => line.includes(":")), [], ns.role);
    assert.doesNotMatch(ns.nft, /table ip6/, ns.role);
  }
  assert.equal(plan.hostA.ip6, undefined);
  assert.equal(plan.rendezvous.ip6, undefined);
});

Deno.test("planLab with ipv6 dual gives every node a 2001:db8::/32 address beside its IPv4", () => {
  const plan = planLab("1-0000", {
    natA: "symmetric",
    natB: "endpoint-independent",
    ipv6: "dual",
    delayMs: 10,
  });
  assert.equal(plan.rendezvous.ip6, "2001:db8::10");
  assert.equal(plan.rendezvous.altIp6, "2001:db8::11");
  assert.deepEqual(
    [plan.hostA.ip6, plan.hostA2.ip6, plan.hostB.ip6],
    ["2001:db8:a::10", "2001:db8:a::11", "2001:db8:b::20"],
  );
  assert.equal(plan.hostA.ip, "192.168.1.10");
  assert.equal(plan.hostA.publicIp, plan.routerA.publicIp);
  assert.equal(plan.routerA.lanIp, "192.168.1.1");
  assert.equal(plan.routerA.lanIp6, "2001:db8:a::1");
  assert.equal(plan.routerB.publicIp6, "2001:db8:0:2::2");
  const byRole = new Map(plan.namespaces.map((ns) => [ns.role, ns]));
  for (const [role, ns] of byRole) {
    const v6Addresses = ns.ip.filter((line) => /^address add .*:/.test(line));
    if (role.startsWith("w")) {
      assert.ok(ns.sysctls.includes("net.ipv6.conf.default.disable_ipv6=1"), "wires stay L2");
      assert.deepEqual(v6Addresses, [], role);
      continue;
    }
    assert.ok(ns.sysctls.includes("net.ipv6.conf.default.accept_ra=0"), role);
    for (const line of v6Addresses) {
      assert.match(line, / nodad( |$)/, `${role}: ${line}`);
      assert.match(line, /address add 2001:db8:/, `${role}: ${line}`);
    }
  }
  const hostA = byRole.get("ha")!;
  assert.ok(hostA.ip.includes("address add 2001:db8:a::10/64 dev eth0 nodad"));
  assert.ok(hostA.ip.includes("route add ::/0 via 2001:db8:a::1"));
  assert.ok(hostA.ip.includes("address add 192.168.1.10/24 dev eth0"));
  const internet = byRole.get("inet")!;
  assert.ok(internet.ip.includes("route add 2001:db8:a::/64 via 2001:db8:0:1::2"));
  assert.ok(internet.sysctls.includes("net.ipv6.conf.all.forwarding=1"));
  // The alternate server address is never a source, so replies come from the address asked.
  assert.ok(
    byRole.get("rv")!.ip.includes("address add 2001:db8::11/64 dev eth0 nodad preferred_lft 0"),
  );
  assert.match(byRole.get("ra")!.nft, /table ip lab[^]*masquerade fully-random[^]*table ip6 lab/);
  assert.doesNotMatch(
    byRole.get("ra")!.nft.slice(byRole.get("ra")!.nft.indexOf("ip6")),
    /masquerade|snat|dnat/,
  );
});

Deno.test("planLab with ipv6 only leaves the homes without IPv4 and the public net dual-stack", () => {
  const plan = planLab("1-0000", { natA: "none", natB: "symmetric", ipv6: "only" });
  for (const host of [plan.hostA, plan.hostA2, plan.hostB]) {
    assert.ok(host.ip6);
    assert.equal(host.ip, host.ip6);
    assert.equal(host.publicIp, host.ip6);
  }
  assert.equal(plan.routerA.lanIp, plan.routerA.lanIp6);
  assert.equal(plan.routerB.publicIp, "198.51.100.18");
  assert.equal(plan.rendezvous.ip, "203.0.113.10");
  assert.equal(plan.rendezvous.ip6, "2001:db8::10");
  for (const ns of plan.namespaces) {
    const v4 = ns.ip.filter((line) => /(address|route) add .*\d+\.\d+\.\d+\.\d+/.test(line));
    if (["ha", "ha2", "hb"].includes(ns.role)) assert.deepEqual(v4, [], ns.role);
    if (ns.role === "ra" || ns.role === "rb") {
      assert.deepEqual(v4.filter((line) => line.includes("dev lan")), [], ns.role);
      assert.ok(v4.some((line) => line.includes("dev wan")), ns.role);
    }
  }
});

Deno.test("planLab rejects an unknown ipv6 mode", () => {
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => planLab("1-0000", { natA: "none", natB: "none", ipv6: "yes" as any }),
    (e: Error) => e instanceof TypeError && e.message.includes('ipv6 is "yes"'),
  );
});

Deno.test("router6Ruleset drops new inbound flows behind NAT kinds, keeps NDP, routes openly for none", () => {
  const home = router6Ruleset({ filter: true });
  const forward = home.slice(home.indexOf("chain forward"));
  assert.match(forward, /policy drop;\n {4}ct state established,related accept\n/);
  assert.match(forward, /icmpv6 type \{ destination-unreachable, packet-too-big, [^}]*\} accept/);
  assert.match(forward, /iifname "lan" accept\n/);
  assert.doesNotMatch(forward, /iifname "wan"/);
  const input = home.slice(home.indexOf("chain input"), home.indexOf("chain forward"));
  assert.match(input, /policy drop;/);
  assert.match(input, /icmpv6 type \{ nd-neighbor-solicit, nd-neighbor-advert \} accept/);
  assert.match(
    router6Ruleset({ filter: true, openInput: true }),
    /input priority filter; policy accept/,
  );
  const open = router6Ruleset({ filter: false });
  assert.match(open, /forward priority filter; policy accept;/);
  assert.doesNotMatch(open, /drop/);
  assert.match(
    router6Ruleset({ filter: true, blockUdp: true }),
    /policy drop;\n {4}meta l4proto udp drop\n {4}ct state/,
  );
  assert.match(router6Ruleset({ filter: false, blockUdp: true }), /meta l4proto udp drop/);
});

Deno.test("planLab names the rendezvous server in every namespace's hosts file, AAAA only with ipv6", () => {
  const v4 = planLab("p2l-1-hosts", { natA: "symmetric", natB: "symmetric" });
  assert.equal(
    v4.hosts.split("\n").filter((line) => line.endsWith(` ${RENDEZVOUS_NAME}`)).length,
    1,
  );
  assert.ok(v4.hosts.includes(`${v4.rendezvous.ip} ${RENDEZVOUS_NAME}\n`));
  const dual = planLab("p2l-1-hosts", { natA: "symmetric", natB: "symmetric", ipv6: "dual" });
  assert.ok(dual.hosts.includes(`${dual.rendezvous.ip} ${RENDEZVOUS_NAME}\n`));
  assert.ok(dual.hosts.includes(`${dual.rendezvous.ip6} ${RENDEZVOUS_NAME}\n`));
});
