import assert from "node:assert/strict";
import { type CliEvent, Output, type OutputOptions, type OutputSink } from "./output.ts";

/** Records what Output writes, as text. */
class Recorder implements OutputSink {
  text = "";
  #decoder = new TextDecoder();
  constructor(readonly terminal = false) {}
  write(bytes: Uint8Array): Promise<number> {
    this.text += this.#decoder.decode(bytes);
    return Promise.resolve(bytes.length);
  }
  isTerminal(): boolean {
    return this.terminal;
  }
}

function recorded(options: Omit<OutputOptions, "stdout" | "stderr">, terminal = false) {
  const stdout = new Recorder(terminal);
  const stderr = new Recorder();
  return { output: new Output({ ...options, stdout, stderr }), stdout, stderr };
}

const EVENTS: CliEvent[] = [
  { type: "code", code: "7-lunar-crystal" },
  { type: "nat", mapping: "endpoint-independent" },
  { type: "paired", nameplate: "7", peer: "203.0.113.5:4000", found: "server" },
  {
    type: "connected",
    path: "direct",
    remote: "203.0.113.5:4000",
    rttMs: 12.4,
    reason: "r",
    transport: "quic",
    candidate: "server",
    nat: { self: "endpoint-independent", peer: "endpoint-dependent" },
  },
  { type: "offer", files: 2, directories: 1, bytes: 2048 },
  { type: "progress", bytes: 2048, total: 2048, file: "a.bin" },
  {
    type: "done",
    bytes: 2048,
    total: 2048,
    files: 2,
    seconds: 2,
    sha256: "ab".repeat(32),
    path: "direct",
    changed: [],
  },
];

Deno.test("Output in JSON mode writes each event as one line of stdout, in order", async () => {
  const { output, stdout, stderr } = recorded({ json: true, role: "send" });
  for (const event of EVENTS) output.emit(event);
  await output.flushed();
  const lines = stdout.text.split("\n");
  assert.equal(lines.pop(), "", "stdout ends with a newline");
  const written = lines.map((line) => JSON.parse(line));
  assert.deepEqual(written.map(({ t: _, ...event }) => event), EVENTS);
  assert.equal(stderr.text, "");
});

Deno.test("Output in JSON mode stamps each event with t, performance.now() when it was emitted", async () => {
  const { output, stdout } = recorded({ json: true, role: "send" });
  const before = performance.now();
  for (const event of EVENTS) output.emit(event);
  await output.flushed();
  const times = stdout.text.trim().split("\n").map((line) => JSON.parse(line).t);
  assert.ok(times.every((t) => typeof t === "number" && t >= Math.floor(before)), String(times));
  assert.deepEqual(times, times.toSorted((a, b) => a - b), "t never goes back");
});

Deno.test("Output in JSON mode also puts an error on stderr as one line", async () => {
  const { output, stdout, stderr } = recorded({ json: true, role: "receive" });
  output.emit({ type: "error", message: "Code mismatch" });
  await output.flushed();
  const { t: _, ...event } = JSON.parse(stdout.text);
  assert.deepEqual(event, { type: "error", message: "Code mismatch" });
  assert.equal(stderr.text, "error: Code mismatch\n");
});

Deno.test("Output in human mode writes one sentence per event, built from its fields", async () => {
  const { output, stdout, stderr } = recorded({ json: false, role: "send" });
  for (const event of EVENTS) output.emit(event);
  await output.flushed();
  assert.equal(
    stdout.text,
    [
      "Code is: 7-lunar-crystal",
      "On the other computer run:",
      "  p2pft receive 7-lunar-crystal",
      "Paired on nameplate 7 through the rendezvous server; the peer is at 203.0.113.5:4000. Looking for a path...",
      "Connected directly to 203.0.113.5:4000 over QUIC (12 ms RTT): r",
      "Sending 2 files, 1 folder (2.0 KiB)",
      `Done: 2 files, 2.0 KiB in 2.0 s, 1.0 kB/s via direct; sha256 ${"ab".repeat(32)}`,
      "",
    ].join("\n"),
  );
  assert.equal(stderr.text, "", "nat and progress (no terminal) print nothing");
});

Deno.test("Output in human mode says the transport and leaves out an unknown RTT", async () => {
  const { output, stdout } = recorded({ json: false, role: "receive" });
  output.emit({
    type: "connected",
    path: "relay",
    remote: "198.51.100.7:9002",
    rttMs: NaN,
    reason: "r",
    transport: "tcp",
    candidate: "relay",
    nat: { self: "endpoint-independent", peer: "endpoint-independent" },
  });
  await output.flushed();
  assert.equal(stdout.text, "Connected through the relay to 198.51.100.7:9002 over TLS/TCP: r\n");
});

Deno.test("Output in human mode gives no rate for nothing sent: all there already, or no bytes", async () => {
  const { output, stdout } = recorded({ json: false, role: "receive" });
  const done = { type: "done" as const, seconds: 0.1, path: "lan" as const, sha256: "ab" };
  const changed: string[] = [];
  output.emit({ ...done, changed, files: 1, bytes: 0, total: 6 });
  output.emit({ ...done, changed, files: 0, bytes: 0, total: 0 });
  // Left out (receive --existing skip kept a different file): not there, whatever was sent.
  const skipped = [{ path: "x.txt", kind: "exists" as const, reason: "kept" }];
  output.emit({ ...done, changed, files: 1, bytes: 0, total: 6, skipped });
  await output.flushed();
  assert.equal(
    stdout.text,
    "Done: 1 file, 6 B (all of it already there, nothing sent now) via lan; sha256 ab\n" +
      "Done: 0 files, 0 B via lan; sha256 ab\n" +
      "Done: 1 file, 6 B (nothing sent now) via lan; sha256 ab\n",
  );
});

Deno.test("Output in human mode says what was sent now only when a resume sent less than all", async () => {
  const { output, stdout } = recorded({ json: false, role: "receive" });
  const done = { type: "done" as const, seconds: 2, path: "lan" as const, sha256: "ab" };
  output.emit({ ...done, changed: [], files: 1, bytes: 1024, total: 4096 });
  output.emit({ ...done, changed: [], files: 1, bytes: 4096, total: 4096 });
  await output.flushed();
  assert.equal(
    stdout.text,
    "Done: 1 file, 4.0 KiB (1.0 KiB sent now) in 2.0 s, 0.5 kB/s via lan; sha256 ab\n" +
      "Done: 1 file, 4.0 KiB in 2.0 s, 2.0 kB/s via lan; sha256 ab\n",
  );
});

Deno.test("Output in human mode names a peer on this computer as such, its address after", async () => {
  const { output, stdout } = recorded({ json: false, role: "receive" });
  output.emit({
    type: "paired",
    nameplate: "3",
    peer: "127.0.0.1:5000",
    found: "server",
    thisComputer: true,
  });
  output.emit({
    type: "connected",
    path: "lan",
    remote: "[fd00::2]:5000",
    rttMs: 2,
    reason: "r",
    transport: "tcp",
    candidate: "private",
    nat: { self: "endpoint-independent", peer: "endpoint-independent" },
    thisComputer: true,
  });
  await output.flushed();
  assert.equal(
    stdout.text,
    "Paired on nameplate 3 through the rendezvous server; the peer is on this computer (127.0.0.1:5000). Looking for a path...\n" +
      "Connected over the LAN to this computer ([fd00::2]:5000) over TLS/TCP (2 ms RTT): r\n",
  );
});

Deno.test("Output in human mode says when the peer was found on the local network", async () => {
  const { output, stdout } = recorded({ json: false, role: "receive" });
  output.emit({ type: "paired", nameplate: "4242", peer: "192.168.1.20:5000", found: "local" });
  await output.flushed();
  assert.equal(
    stdout.text,
    "Paired on nameplate 4242 on the local network; the peer is at 192.168.1.20:5000. Looking for a path...\n",
  );
});

Deno.test("Output in human mode sends warnings and errors to stderr", async () => {
  const { output, stdout, stderr } = recorded({ json: false, role: "receive" });
  output.emit({ type: "warning", message: "slow path" });
  output.emit({ type: "error", message: "No sender is waiting on nameplate 7" });
  await output.flushed();
  assert.equal(stdout.text, "");
  assert.equal(stderr.text, "warning: slow path\nerror: No sender is waiting on nameplate 7\n");
});

Deno.test("Output draws a progress bar only on a terminal and ends it before the next line", async () => {
  const { output, stdout } = recorded({ json: false, role: "receive" }, true);
  output.emit({ type: "progress", bytes: 2048, total: 2048, file: "a.bin" });
  output.emit({ type: "warning", message: "late" });
  output.emit({ type: "listening", host: "0.0.0.0", port: 9000, altPort: 9001, tcp: true });
  await output.flushed();
  assert.ok(stdout.text.startsWith("\r\x1b[2K[" + "#".repeat(24) + "] 100% 2.0 KiB/2.0 KiB "));
  assert.match(stdout.text, / a\.bin\nRendezvous/);
  assert.match(
    stdout.text,
    /Rendezvous server listening on 0\.0\.0\.0:9000 \(UDP and TCP; NAT check on UDP 9001, relay off\)\n$/,
  );
});

Deno.test("Output counts bytes a resume found in place in the bar, not in the rate or ETA", async () => {
  const { output, stdout } = recorded({ json: false, role: "receive" }, true);
  // Nothing moved in this run yet: 0 MB/s and no ETA, not 900 KiB in an instant.
  output.emit({
    type: "progress",
    bytes: 921_600,
    total: 1_048_576,
    file: "a.bin",
    already: 921_600,
  });
  await output.flushed();
  assert.match(stdout.text, /\] {2}88% 900\.0 KiB\/1\.0 MiB 0\.0 MB\/s ETA --:-- a\.bin$/);
});

Deno.test("Output's rate starts at each transfer's first update, not at the first transfer's", async () => {
  const { output, stdout } = recorded({ json: false, role: "send" }, true);
  output.emit({ type: "progress", bytes: 1_048_576, total: 1_048_576, file: "a.bin" });
  output.emit({ ...EVENTS.at(-1)! });
  output.emit({ type: "progress", bytes: 524_288, total: 1_048_576, file: "a.bin" });
  // Its first update: nothing measured yet, rather than 512 KiB in no time.
  await output.flushed();
  assert.match(stdout.text, / 50% 512\.0 KiB\/1\.0 MiB 0\.0 MB\/s ETA --:-- a\.bin$/);
});

Deno.test("Output words the waiting event for each side", async () => {
  const { output, stdout } = recorded({ json: false, role: "send" });
  output.emit({ type: "waiting", for: "accept", seconds: 600 });
  output.emit({ type: "waiting", for: "sender", seconds: 60 });
  await output.flushed();
  assert.equal(
    stdout.text,
    "Waiting for the receiver to accept (up to 600 s)...\nWaiting for the sender (up to 60 s)...\n",
  );
});

Deno.test("Output shows a stream's progress as bytes and speed without a bar or ETA, and every update", async () => {
  const { output, stdout } = recorded({ json: false, role: "send" }, true);
  output.emit({ type: "progress", bytes: 1024, total: 1024, file: "stdin", unknownSize: true });
  output.emit({ type: "progress", bytes: 2048, total: 2048, file: "stdin", unknownSize: true });
  await output.flushed();
  assert.ok(stdout.text.startsWith("\r\x1b[2K1.0 KiB "), JSON.stringify(stdout.text));
  assert.doesNotMatch(stdout.text, /ETA|\[#|%/);
  // Throttled like any progress: "bytes = total" does not mean finished for a stream.
  assert.equal(stdout.text.split("\r").length - 1, 1);
});

Deno.test("Output shows a received text's escape sequences as text, keeping lines and tabs", async () => {
  const { output, stdout } = recorded({ json: false, role: "receive" });
  output.emit({ type: "text", text: "a\tb\r\n\x1b[31mred\r\u202egnp\n" });
  await output.flushed();
  assert.equal(stdout.text, "a\tb\n\\u001b[31mred\\u000d\\u202egnp\n");
});

Deno.test("Output words a text, several receivers and doctor's checks", async () => {
  const { output, stdout } = recorded({ json: false, role: "receive" });
  output.emit({ type: "offer", files: 0, directories: 0, bytes: 5, kind: "text" });
  output.emit({ type: "text", text: "hello\n" });
  output.emit({
    type: "done",
    files: 0,
    bytes: 6,
    total: 6,
    seconds: 0.01,
    path: "lan",
    sha256: "ab",
    changed: [],
  });
  output.emit({ type: "receiver", receiver: 2, of: 3, served: 1, ok: false, message: "declined" });
  output.emit({
    type: "receiver",
    receiver: 3,
    of: 3,
    served: 2,
    ok: true,
    remote: "192.0.2.9:4000",
    sha256: "cd",
  });
  output.emit({ type: "summary", receivers: 3, succeeded: 3, failed: 1 });
  output.emit({
    type: "check",
    check: "nat",
    verdict: "warning",
    summary: "endpoint-dependent",
    facts: { mapping: "endpoint-dependent" },
  });
  await output.flushed();
  assert.equal(
    stdout.text,
    "Receiving a text (5 B)\nhello\nDone: a text, 6 B via lan; sha256 ab\n" +
      "Receiver 2 failed (1 of 3 served): declined\n" +
      // Numbered by turn as failures are, so a success after a failure is not "receiver 1" again.
      "Receiver 3 (192.0.2.9:4000) received it (2 of 3 served), sha256 cd\n" +
      "Served 3 of 3 receivers (1 failed); the code is closed\n" +
      "warning NAT mapping: endpoint-dependent\n",
  );
});

Deno.test("Output names a shared room store and the metrics URL in the listening line", async () => {
  const { output, stdout } = recorded({ json: false, role: "serve" }, false);
  output.emit({
    type: "listening",
    host: "10.0.0.2",
    port: 9000,
    altPort: 9001,
    relayPort: 9002,
    tcp: true,
    store: "redis://10.0.0.5:6379/0",
    metrics: "http://127.0.0.1:9100/metrics",
  });
  await output.flushed();
  assert.equal(
    stdout.text,
    "Rendezvous server listening on 10.0.0.2:9000 (UDP and TCP; NAT check on UDP 9001, relay on " +
      "UDP and TCP 9002; rooms in redis://10.0.0.5:6379/0; metrics at http://127.0.0.1:9100/metrics)\n",
  );
});

Deno.test("Output writes an IPv6 listening address in brackets", async () => {
  const { output, stdout } = recorded({ json: false, role: "receive" });
  output.emit({ type: "listening", host: "::", port: 9000, altPort: 9001, tcp: false });
  await output.flushed();
  assert.match(
    stdout.text,
    /^Rendezvous server listening on \[::\]:9000 \(UDP; NAT check on UDP 9001, relay off\)\n$/,
  );
});
