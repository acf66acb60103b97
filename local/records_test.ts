import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { ProtocolError, toHex } from "../base/mod.ts";
import { decodeDnsMessage, type DnsMessage, DnsType, encodeDnsMessage } from "./dns.ts";
import { LOCAL_NAMEPLATE_MAX, LOCAL_NAMEPLATE_MIN, localNameplate } from "./nameplate.ts";
import { advertResponse, asksFor, readAdvert, senderInstance, senderQuery } from "./records.ts";
import { advertAddresses } from "./_shared.ts";
import {
  SAMPLE_MESSAGES,
  SAMPLE_NAMEPLATE,
  SAMPLE_RECEIVER,
  SAMPLE_SENDER,
} from "./_testing_samples.ts";

const onWire = (message: DnsMessage) => decodeDnsMessage(encodeDnsMessage(message));

Deno.test("the sender's instance is the first 8 bytes of SHA-256 of a context and the nameplate", () => {
  const digest = createHash("sha256").update("p2pft local nameplate4242").digest();
  assert.equal(senderInstance("4242"), `${toHex(digest.subarray(0, 8))}._p2pft._udp.local`);
  assert.notEqual(senderInstance("4242"), senderInstance("4243"));
});

Deno.test("nothing the LAN sees holds the nameplate in clear", () => {
  const text = new TextDecoder("latin1");
  for (const [name, message] of Object.entries(SAMPLE_MESSAGES)) {
    assert(!text.decode(encodeDnsMessage(message)).includes(SAMPLE_NAMEPLATE), name);
  }
});

Deno.test("readAdvert reads back what the sender and the receiver publish", () => {
  assert.deepEqual(
    readAdvert(onWire(SAMPLE_MESSAGES.announce), SAMPLE_SENDER.instance),
    SAMPLE_SENDER,
  );
  assert.deepEqual(
    readAdvert(onWire(SAMPLE_MESSAGES.claim), SAMPLE_RECEIVER.instance),
    SAMPLE_RECEIVER,
  );
  assert.deepEqual(
    readAdvert(onWire(SAMPLE_MESSAGES.ack), SAMPLE_SENDER.instance)?.peer,
    SAMPLE_RECEIVER.id,
  );
  assert.equal(readAdvert(onWire(SAMPLE_MESSAGES.announce), SAMPLE_RECEIVER.instance), undefined);
});

Deno.test("an advert carries IPv4 as A and IPv6 as AAAA records of its host name", () => {
  const addresses = SAMPLE_MESSAGES.announce.answers.flatMap((r) =>
    r.kind === "A" || r.kind === "AAAA" ? [[r.kind, r.name, r.address]] : []
  );
  assert.deepEqual(addresses, [
    ["A", SAMPLE_SENDER.host, "192.168.1.10"],
    ["A", SAMPLE_SENDER.host, "10.0.0.7"],
    ["AAAA", SAMPLE_SENDER.host, "2001:db8::10"],
  ]);
});

Deno.test("readAdvert takes AAAA records a peer can probe, not link-local, loopback or mapped ones", () => {
  const message = advertResponse(SAMPLE_SENDER);
  const aaaa = (address: string) => ({
    name: SAMPLE_SENDER.host.toUpperCase(),
    ttl: 120,
    cacheFlush: true,
    kind: "AAAA" as const,
    address,
  });
  const extra = ["fe80::1", "::1", "::ffff:10.0.0.9", "ff02::fb", "FD00:0:0:0::7", "2001:db8::10"];
  const read = readAdvert(
    onWire({ ...message, additionals: extra.map(aaaa) }),
    SAMPLE_SENDER.instance,
  );
  assert.deepEqual(read?.addresses, [...SAMPLE_SENDER.addresses, "fd00::7"]);
});

Deno.test("an advert takes IPv4 and global or unique-local IPv6 candidates, in canonical text", () => {
  const at = (hostname: string) => ({ transport: "udp" as const, hostname, port: 40000 });
  assert.deepEqual(
    advertAddresses([at("10.0.0.7"), at("2001:DB8:0:0::10"), at("fd00::1"), at("2001:db8::10")]),
    { port: 40000, addresses: ["10.0.0.7", "2001:db8::10", "fd00::1"] },
  );
  for (const hostname of ["fe80::1", "::1", "::ffff:10.0.0.7", "ff02::fb", "fe80::1%eth0", "x"]) {
    assert.throws(
      () => advertAddresses([at(hostname)]),
      (e) =>
        e instanceof RangeError &&
        e.message.startsWith(`Cannot advertise candidate ${hostname}:40000 on the LAN`),
      hostname,
    );
  }
});

Deno.test("readAdvert skips goodbyes and queries", () => {
  assert.equal(readAdvert(onWire(SAMPLE_MESSAGES.goodbye), SAMPLE_SENDER.instance), undefined);
  assert.equal(readAdvert(onWire(SAMPLE_MESSAGES.query), SAMPLE_SENDER.instance), undefined);
});

Deno.test("readAdvert names another version and a broken token in its error", () => {
  const withTxt = (strings: string[]): DnsMessage => {
    const message = advertResponse(SAMPLE_SENDER);
    const answers = message.answers.map((r) =>
      r.kind === "TXT" ? { ...r, strings: strings.map((s) => new TextEncoder().encode(s)) } : r
    );
    return { ...message, answers };
  };
  const id = `id=${"ab".repeat(16)}`;
  assert.throws(
    () => readAdvert(withTxt(["v=1", `tok=${"00".repeat(16)}`, id]), SAMPLE_SENDER.instance),
    (e) =>
      e instanceof ProtocolError &&
      /speaks local discovery version 1; this p2pft speaks 2/.test(e.message),
  );
  assert.throws(
    () => readAdvert(withTxt(["v=2", "tok=00", id]), SAMPLE_SENDER.instance),
    (e) =>
      e instanceof ProtocolError && /has tok=00: expected 32 lowercase hex digits/.test(e.message),
  );
  // Keys are case-insensitive, the first one counts, unknown ones are ignored.
  const read = readAdvert(
    withTxt(["V=2", `TOK=${"11".repeat(16)}`, `tok=${"22".repeat(16)}`, id, "future=x"]),
    SAMPLE_SENDER.instance,
  );
  assert.deepEqual(read?.token, new Uint8Array(16).fill(0x11));
});

Deno.test("asksFor matches queries for the instance, the service and the host, not others", () => {
  assert(asksFor(senderQuery(SAMPLE_NAMEPLATE, false), SAMPLE_SENDER));
  assert(!asksFor(senderQuery("4243", false), SAMPLE_SENDER));
  const ask = (name: string, type: number): DnsMessage => ({
    ...SAMPLE_MESSAGES.query,
    questions: [{ name, type, class: 1, unicastResponse: false }],
  });
  assert(asksFor(ask("_P2PFT._udp.local", DnsType.PTR), SAMPLE_SENDER));
  assert(
    !asksFor(ask("_p2pft._udp.local", DnsType.PTR), SAMPLE_RECEIVER),
    "receivers are not listed",
  );
  assert(asksFor(ask(SAMPLE_SENDER.host, DnsType.A), SAMPLE_SENDER));
  assert(asksFor(ask(SAMPLE_SENDER.host, DnsType.AAAA), SAMPLE_SENDER));
  assert(!asksFor(ask(SAMPLE_SENDER.host, DnsType.TXT), SAMPLE_SENDER));
  assert(!asksFor(ask("_http._tcp.local", DnsType.PTR), SAMPLE_SENDER));
  assert(!asksFor(SAMPLE_MESSAGES.announce, SAMPLE_SENDER), "a response is not a query");
});

Deno.test("localNameplate draws numbers from 100 to 9999", () => {
  const drawn = Array.from({ length: 2000 }, () => Number(localNameplate()));
  assert(
    drawn.every((n) => Number.isInteger(n) && n >= LOCAL_NAMEPLATE_MIN && n <= LOCAL_NAMEPLATE_MAX),
  );
  // 2000 draws from 9900 numbers: fewer than 1500 distinct would mean a narrow or skewed range.
  assert(new Set(drawn).size > 1500, `only ${new Set(drawn).size} distinct`);
  assert(drawn.some((n) => n < 1000) && drawn.some((n) => n > 9000));
});
