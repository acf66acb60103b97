import assert from "node:assert/strict";
import { CHECK_NAMES, doctorChecks, type DoctorFacts, type ServerFacts } from "./doctor_checks.ts";

const at = (hostname: string, port: number): Deno.NetAddr => ({
  transport: "udp",
  hostname,
  port,
});

function facts(
  overrides: Partial<Omit<DoctorFacts, "rendezvous"> & Omit<ServerFacts, "server">> = {},
): DoctorFacts {
  const { udp, tcp, ...local } = overrides;
  return {
    rendezvous: {
      server: "198.51.100.1:9000",
      udp: udp ?? {
        ok: true,
        value: {
          mapping: "endpoint-independent",
          observed: at("203.0.113.5", 4000),
          altObserved: at("203.0.113.5", 4000),
          relayPort: 9002,
        },
      },
      tcp: tcp ?? { ok: true, value: { observed: at("203.0.113.5", 5123) } },
    },
    addresses: [{ name: "eth0", address: "192.168.1.20", family: "IPv4" }],
    ipv6: { binds: true, global: [], candidates: [] },
    local: { ok: true, value: [] },
    ...local,
  };
}

function byName(input: DoctorFacts) {
  return Object.fromEntries(doctorChecks(input).map((check) => [check.check, check]));
}

Deno.test("doctorChecks: a cone NAT with a relaying server gives a direct path and no failure", () => {
  const checks = byName(facts());
  assert.equal(checks.nat.verdict, "ok");
  assert.equal(checks.nat.facts.mapping, "endpoint-independent");
  assert.equal(checks.path.facts.path, "direct");
  assert.ok(doctorChecks(facts()).every((check) => check.verdict !== "fail"));
});

Deno.test("doctorChecks: two symmetric NATs need the relay, and fail where the server has none", () => {
  const udp = (relayPort?: number): ServerFacts["udp"] => ({
    ok: true,
    value: {
      mapping: "endpoint-dependent",
      observed: at("203.0.113.5", 4000),
      altObserved: at("203.0.113.5", 4001),
      ...(relayPort ? { relayPort } : {}),
    },
  });
  const relayed = byName(facts({ udp: udp(9002) }));
  assert.equal(relayed.nat.verdict, "warning");
  assert.match(relayed.nat.summary, /saw 203\.0\.113\.5:4000 and 203\.0\.113\.5:4001/);
  assert.deepEqual([relayed.path.verdict, relayed.path.facts.path], ["warning", "relay"]);
  const stranded = byName(facts({ udp: udp() }));
  assert.deepEqual([stranded.path.verdict, stranded.path.facts.path], ["fail", "relay"]);
});

Deno.test("doctorChecks: blocked UDP leaves the TCP relay; nothing answering fails every server line", () => {
  const blocked = byName(facts({ udp: { ok: false, error: "No answer after 3 s" } }));
  assert.equal(blocked.udp.verdict, "fail");
  assert.equal(blocked.tcp.verdict, "ok");
  assert.deepEqual([blocked.path.verdict, blocked.path.facts.path], ["warning", "relay"]);
  const down = byName(facts({
    udp: { ok: false, error: "No answer after 3 s" },
    tcp: { ok: false, error: "Connection refused" },
  }));
  assert.deepEqual(
    ["udp", "tcp", "nat", "path"].map((name) => down[name].verdict),
    ["fail", "fail", "fail", "fail"],
  );
  assert.match(down.tcp.summary, /does not answer over TCP: Connection refused$/);
});

Deno.test("doctorChecks: a missing second-port answer is called a guess; TCP alone is a warning", () => {
  const checks = byName(facts({
    udp: { ok: true, value: { mapping: "endpoint-independent", observed: at("203.0.113.5", 1) } },
    tcp: { ok: false, error: "Connection refused" },
  }));
  assert.match(checks.nat.summary, /second port did not answer, so this is a guess/);
  assert.equal(checks.tcp.verdict, "warning");
});

Deno.test("doctorChecks: the IPv6 check names the IPv6 candidates p2pft offers, or says IPv4 only", () => {
  const offered = byName(facts({
    ipv6: { binds: true, global: ["2001:db8::20"], candidates: ["2001:db8::20", "fd00::20"] },
  }));
  assert.match(offered.ipv6.summary, /offers peers 2001:db8::20, fd00::20 beside IPv4$/);
  assert.deepEqual(offered.ipv6.facts.candidates, ["2001:db8::20", "fd00::20"]);
  assert.match(offered.addresses.summary, /use 192\.168\.1\.20, 2001:db8::20, fd00::20$/);
  const siteOnly = byName(facts({ ipv6: { binds: true, global: [], candidates: ["fd00::20"] } }));
  assert.match(siteOnly.ipv6.summary, /unique-local only/);
  const none = byName(facts());
  assert.match(
    none.ipv6.summary,
    /no global or unique-local IPv6 address; p2pft connects over IPv4 only/,
  );
  const broken = byName(
    facts({ ipv6: { binds: false, error: "EAFNOSUPPORT", global: [], candidates: [] } }),
  );
  assert.match(
    broken.ipv6.summary,
    /cannot bind on :: \(EAFNOSUPPORT\); p2pft connects over IPv4 only/,
  );
});

Deno.test("doctorChecks: a host with IPv6 candidates but no IPv4 is not called offline", () => {
  const checks = byName(facts({
    addresses: [{ name: "eth0", address: "2001:db8::20", family: "IPv6" }],
    ipv6: { binds: true, global: ["2001:db8::20"], candidates: ["2001:db8::20"] },
  }));
  assert.equal(checks.addresses.verdict, "warning");
  assert.match(checks.addresses.summary, /over IPv6 only \(2001:db8::20\)/);
  assert.doesNotMatch(checks.addresses.summary, /offline/);
});

Deno.test("doctorChecks: loopback only says who can reach this host, not 'offline'", () => {
  const checks = byName(facts({ addresses: [] }));
  assert.equal(checks.addresses.verdict, "warning");
  assert.match(
    checks.addresses.summary,
    /^no IPv4 address besides loopback: no peer on another host can reach this one, only peers on this host$/,
  );
});

Deno.test("doctorChecks: with no server, the server's checks say so and the path is the LAN", () => {
  const { rendezvous: _, ...alone } = facts();
  const checks = doctorChecks(alone);
  assert.deepEqual(checks.map((check) => check.check), CHECK_NAMES);
  const named = Object.fromEntries(checks.map((check) => [check.check, check]));
  for (const name of ["udp", "tcp", "nat"]) {
    assert.equal(named[name].verdict, "info");
    assert.match(named[name].summary, /no rendezvous server is configured .*P2PFT_RENDEZVOUS/);
  }
  assert.deepEqual([named.path.verdict, named.path.facts.path], ["info", "lan"]);
  const deaf = doctorChecks({ ...alone, local: { ok: false, error: "no multicast route" } });
  assert.deepEqual(deaf.at(-1)?.facts, { path: "none" });
  assert.equal(deaf.at(-1)?.verdict, "fail");
});

Deno.test("doctorChecks: --no-local leaves local discovery unchecked and says so", () => {
  const { local: _, ...quiet } = facts();
  const checks = doctorChecks(quiet);
  assert.deepEqual(checks.map((check) => check.check), CHECK_NAMES);
  const local = checks.find((check) => check.check === "local");
  assert.deepEqual([local?.verdict, local?.facts], ["info", { checked: false }]);
  assert.match(local?.summary ?? "", /not checked: --no-local/);
  const { rendezvous: __, ...alone } = quiet;
  const path = doctorChecks(alone).at(-1);
  assert.deepEqual([path?.verdict, path?.facts], ["fail", { path: "none" }]);
  assert.match(path?.summary ?? "", /local discovery is off \(--no-local\)/);
});
