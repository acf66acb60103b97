/** Sample messages of every type, shared by this folder's tests. */
import type { RegisterMessage, RendezvousMessage } from "../wire/mod.ts";

export const addr = (hostname: string, port: number): Deno.NetAddr => ({
  transport: "udp",
  hostname,
  port,
});
export const bytes = (length: number, fill: number) => new Uint8Array(length).fill(fill);

/** Three peers' public addresses, for room tests. */
export const A = addr("203.0.113.1", 1111);
export const B = addr("198.51.100.2", 2222);
export const C = addr("192.0.2.3", 3333);

/** Sender `id`'s register (its id and fingerprint filled with `id`). */
export function sender(id: number, nameplate?: string): RegisterMessage {
  const message: RegisterMessage = {
    type: "register",
    role: "send",
    clientId: bytes(16, id),
    candidates: [addr("192.168.1.10", 5000)],
    fingerprint: bytes(32, id),
  };
  if (nameplate !== undefined) message.nameplate = nameplate;
  return message;
}

/** Receiver `id`'s register for `nameplate`. */
export function receiver(id: number, nameplate: string): RegisterMessage {
  return { type: "register", role: "receive", clientId: bytes(16, id), nameplate, candidates: [] };
}

export const SAMPLES: RendezvousMessage[] = [
  {
    type: "register",
    role: "send",
    clientId: bytes(16, 1),
    candidates: [addr("192.168.1.20", 50000), addr("10.0.0.2", 1)],
    fingerprint: bytes(32, 9),
    nat: "endpoint-dependent",
  },
  {
    type: "register",
    role: "receive",
    clientId: bytes(16, 2),
    nameplate: "99999",
    candidates: [],
    poll: true,
  },
  { type: "leave", clientId: bytes(16, 3), nameplate: "7" },
  { type: "waiting", clientId: bytes(16, 4), nameplate: "1", observed: addr("203.0.113.5", 4000) },
  {
    type: "paired",
    clientId: bytes(16, 5),
    nameplate: "42",
    token: bytes(16, 6),
    observed: addr("203.0.113.5", 4000),
    peer: {
      id: bytes(16, 7),
      observed: addr("198.51.100.1", 65535),
      candidates: Array.from({ length: 8 }, (_, i) => addr(`10.0.0.${i}`, 1000 + i)),
      fingerprint: bytes(32, 8),
      nat: "none",
      transport: "tcp",
    },
    relay: addr("192.0.2.9", 9002),
  },
  { type: "error", clientId: bytes(16, 10), code: 1, nameplate: "7" },
  { type: "error", clientId: bytes(16, 11), code: 200 },
  { type: "observe", clientId: bytes(16, 12) },
  {
    type: "observation",
    clientId: bytes(16, 13),
    observed: addr("203.0.113.9", 61000),
    altPort: 9001,
    relayPort: 9002,
  },
  { type: "observation", clientId: bytes(16, 14), observed: addr("10.1.2.3", 1), altPort: 65535 },
  { type: "relay-hello", token: bytes(16, 15), clientId: bytes(16, 16) },
  { type: "relay-ready", clientId: bytes(16, 17) },
  { type: "relay-waiting", clientId: bytes(16, 18) },
  { type: "tcp-relay-hello", token: bytes(16, 20), clientId: bytes(16, 21), channel: 0x0102 },
  {
    type: "paired",
    clientId: bytes(16, 22),
    nameplate: "3",
    token: bytes(16, 23),
    observed: addr("203.0.113.6", 4001),
    peer: {
      id: bytes(16, 24),
      observed: addr("198.51.100.2", 1),
      candidates: [],
      transport: "udp",
    },
  },
  {
    type: "register",
    role: "receive",
    clientId: bytes(16, 19),
    nameplate: "5",
    candidates: [addr("192.168.1.21", 50001)],
    nat: "endpoint-independent",
  },
  { type: "cookie", clientId: bytes(16, 25), cookie: bytes(16, 26) },
  {
    type: "register",
    role: "send",
    clientId: bytes(16, 27),
    nameplate: "12",
    candidates: [addr("192.168.1.22", 50002)],
    poll: true,
    cookie: bytes(16, 28),
  },
  { type: "observe", clientId: bytes(16, 29), cookie: bytes(16, 30) },
  { type: "leave", clientId: bytes(16, 31), nameplate: "12", cookie: bytes(16, 32) },
  { type: "relay-hello", token: bytes(16, 33), clientId: bytes(16, 34), cookie: bytes(16, 35) },
  {
    // A sender that will open its nameplate again for the next receiver (send --receivers), with its cookie.
    type: "register",
    role: "send",
    clientId: bytes(16, 20),
    nameplate: "5",
    candidates: [addr("192.168.1.20", 50000)],
    fingerprint: bytes(32, 10),
    successor: bytes(32, 11),
    cookie: bytes(16, 36),
  },
  {
    // The biggest reply there is (MAX_REPLY_SIZE): every address IPv6.
    type: "paired",
    clientId: bytes(16, 37),
    nameplate: "99999",
    token: bytes(16, 38),
    observed: addr("2001:db8::5", 4000),
    peer: {
      id: bytes(16, 39),
      observed: addr("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 65535),
      candidates: Array.from({ length: 8 }, (_, i) => addr(`fd00:1:2:3:4:5:6:${i + 1}`, 1000 + i)),
      fingerprint: bytes(32, 40),
      nat: "none",
      transport: "udp",
    },
    relay: addr("2001:db8:0:1::9", 9002),
  },
  {
    // IPv4 and IPv6 candidates in one list.
    type: "register",
    role: "send",
    clientId: bytes(16, 41),
    candidates: [
      addr("192.168.1.20", 50000),
      addr("fd12:3456:789a:1::20", 50000),
      addr("10.0.0.2", 1),
    ],
    nat: "endpoint-independent",
    cookie: bytes(16, 42),
  },
  { type: "waiting", clientId: bytes(16, 43), nameplate: "8", observed: addr("2001:db8::6", 4001) },
  {
    type: "observation",
    clientId: bytes(16, 44),
    observed: addr("2001:db8:1234::1", 61000),
    altPort: 9001,
    relayPort: 9002,
  },
  {
    // An IPv6 peer paired with an IPv4 peer.
    type: "paired",
    clientId: bytes(16, 45),
    nameplate: "8",
    token: bytes(16, 46),
    observed: addr("203.0.113.7", 4002),
    peer: {
      id: bytes(16, 47),
      observed: addr("2001:db8::6", 4001),
      candidates: [addr("fd00::6", 4001), addr("192.168.1.6", 4001)],
      transport: "udp",
    },
  },
  // The TCP relay's answer once the operator's byte cap (8 GiB) ended the session.
  { type: "error", clientId: bytes(16, 48), code: 14, limit: 8 * 2 ** 30 },
  {
    // A receiver that takes only the relay (--relay-only): no candidates, flags bit 1.
    type: "register",
    role: "receive",
    clientId: bytes(16, 49),
    nameplate: "7",
    candidates: [],
    nat: "endpoint-independent",
    relayOnly: true,
    cookie: bytes(16, 50),
  },
  {
    // What its sender is told: peerFlags bit 0, so it joins the relay at once.
    type: "paired",
    clientId: bytes(16, 51),
    nameplate: "7",
    token: bytes(16, 52),
    observed: addr("203.0.113.8", 4003),
    peer: {
      id: bytes(16, 49),
      observed: addr("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 65535),
      candidates: [],
      nat: "endpoint-independent",
      transport: "udp",
      relayOnly: true,
    },
    relay: addr("2001:db8:0:1::9", 9002),
  },
  {
    // A receiver that waits for its sender (receive --timeout): flags bit 2, so a server may
    // push it `paired` when its sender comes.
    type: "register",
    role: "receive",
    clientId: bytes(16, 53),
    nameplate: "7",
    candidates: [addr("192.168.1.20", 4001)],
    nat: "endpoint-independent",
    waitsForSender: true,
    cookie: bytes(16, 54),
  },
  // A source that filled its share of rooms both peers left (in their 30 s linger): error 5 with it.
  { type: "error", clientId: bytes(16, 55), code: 5, limit: 128 },
];
