import { classifyMapping } from "./_observe.ts";
import { addr, assertEquals } from "../testing/mod.ts";

const OWN = addr("192.168.1.10", 40000);
const PUBLIC = addr("203.0.113.5", 40000);

Deno.test("classifyMapping: the server sees one of our own addresses on both ports → none", () => {
  assertEquals(classifyMapping([addr("10.0.0.1", 1), OWN], OWN, OWN), "none");
});

Deno.test("classifyMapping: one public address for both ports → endpoint-independent", () => {
  assertEquals(classifyMapping([OWN], PUBLIC, PUBLIC), "endpoint-independent");
  // Same IP but another port than ours is still a NAT (a port-preserving one would match).
  assertEquals(
    classifyMapping([OWN], addr("192.168.1.10", 40001), addr("192.168.1.10", 40001)),
    "endpoint-independent",
  );
});

Deno.test("classifyMapping: another public port or IP per server port → endpoint-dependent", () => {
  assertEquals(classifyMapping([OWN], PUBLIC, addr("203.0.113.5", 40002)), "endpoint-dependent");
  assertEquals(classifyMapping([OWN], PUBLIC, addr("203.0.113.6", 40000)), "endpoint-dependent");
  assertEquals(classifyMapping([OWN], OWN, addr("192.168.1.10", 40002)), "endpoint-dependent");
});

Deno.test("classifyMapping without an alt observation judges by the main port alone", () => {
  assertEquals(classifyMapping([OWN], OWN, undefined), "none");
  assertEquals(classifyMapping([OWN], PUBLIC, undefined), "endpoint-independent");
});
