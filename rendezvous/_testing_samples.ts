/** Sample messages of every type, shared by this folder's tests. */
import type { RendezvousMessage } from "./protocol.ts";

export const addr = (hostname: string, port: number): Deno.NetAddr => ({
  transport: "udp",
  hostname,
  port,
});
export const bytes = (length: number, fill: number) => new Uint8Array(length).fill(fill);

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
];
