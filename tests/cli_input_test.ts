/**
 * What the CLI says when it is used wrong, and its help, version and doctor wording: real
 * `deno run -A main.ts` processes on loopback, each answer one line and the documented exit code
 * (the transfers themselves are in cli_test.ts; where the network is missing, in
 * cli_namespace_input_test.ts).
 */
import assert from "node:assert/strict";
import { boundedTest } from "./bounded.ts";
import { world } from "./world.ts";
import { TLS_LINK_VERSION } from "../peer/mod.ts";
import { PROTOCOL_VERSION, SPOKEN_VERSION } from "../transfer/mod.ts";

const TEST_TIMEOUT_MS = 60_000;

function e2e(name: string, fn: (signal: AbortSignal) => Promise<void>) {
  boundedTest(name, fn, { timeoutMs: TEST_TIMEOUT_MS });
}

e2e("bad input gets one line and a non-zero exit, never a stack trace", async (signal) => {
  await using w = await world(signal);
  // A rendezvous server that never answers.
  const silent = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const silentPort = (silent.addr as Deno.NetAddr).port;
  const cases: Array<
    { args: string[]; code: number; message: RegExp; env?: Record<string, string> }
  > = [
    {
      args: ["send", `${w.dir}/missing.txt`, ...w.rendezvous],
      code: 1,
      // The reason only: not Deno's "(os error 2): stat '/abs/path'" after it.
      message: /^error: Cannot send .*missing\.txt: No such file or directory$/m,
    },
    { args: ["receive", "7-lantern", ...w.rendezvous], code: 2, message: /at least 2 words/ },
    {
      args: ["receive", "7-lantern-crossword", "--out", `${w.dir}/nope`, "--yes", ...w.rendezvous],
      code: 2,
      message: /does not exist/,
    },
    // A folder whose file system makes no files: not "No such file or directory".
    ...(Deno.build.os === "linux"
      ? [{
        args: ["receive", "7-lantern-crossword", "--out", "/proc", "--yes", ...w.rendezvous],
        code: 1,
        message:
          /^error: Cannot receive into \/proc: it is not writable \(its file system takes no new files, like \/proc's; choose another --out\)\n$/,
      }]
      : []),
    { args: ["receive", "7-lantern-crossword", ...w.rendezvous], code: 2, message: /--yes/ },
    // Without a server, local discovery is the only way left: --no-local leaves none. (Every case
    // runs with P2PFT_RENDEZVOUS="", which counts as unset, as README says.)
    { args: ["send", `${w.dir}`, "--no-local"], code: 2, message: /--no-local.*P2PFT_RENDEZVOUS/ },
    {
      args: ["receive", "7-lantern-crossword", "--yes", "--relay-only"],
      code: 2,
      message: /--relay-only needs a rendezvous server/,
    },
    { args: ["send", "x", "--rendezvous", "host:notaport"], code: 2, message: /notaport/ },
    // A pasted URL (before: "put an IPv6 address in brackets").
    {
      args: ["send", `${w.dir}`, "--rendezvous", "http://127.0.0.1:9000"],
      code: 2,
      message:
        /^error: Invalid address "http:\/\/127\.0\.0\.1:9000": give host:port without http:\/\/, e\.g\. rendezvous\.example\.org:9000$/m,
    },
    // A bad address nobody typed names the variable it came from.
    {
      args: ["send", `${w.dir}`],
      env: { P2PFT_RENDEZVOUS: "host:notaport" },
      code: 2,
      message: /^error: P2PFT_RENDEZVOUS="host:notaport" \(from the environment\): .*notaport/,
    },
    // A host name no DNS server could hold is refused before any lookup.
    {
      args: ["send", `${w.dir}`],
      env: { P2PFT_RENDEZVOUS: "a..b:9000" },
      code: 2,
      message: /^error: P2PFT_RENDEZVOUS="a\.\.b:9000" \(from the environment\): .*an empty label/,
    },
    { args: ["frobnicate"], code: 2, message: /Unknown command "frobnicate" \(known: / },
    // An empty argument, an unset variable most often: never this folder, spend no code.
    {
      args: ["send", "", ...w.rendezvous, "--timeout", "1"],
      code: 2,
      message:
        /^error: An empty path was given \(an unset variable in send "\$VAR"\?\); to send this folder, name it: \.\n$/,
    },
    {
      args: ["receive", "7-lantern-cross", "--yes", "--out", "", ...w.rendezvous],
      code: 2,
      message: /^error: --out is empty \(an unset variable in --out "\$VAR"\?\)\n$/,
    },
    // An empty --rendezvous asked for a server and named none: not "the local network only".
    ...[["send", `${w.dir}`], ["receive", "7-lantern-cross", "--yes"], ["doctor"]].map((args) => ({
      args: [...args, "--rendezvous", ""],
      code: 2,
      message:
        /^error: --rendezvous is empty \(an unset variable in --rendezvous "\$VAR"\?\); to find the peer on the local network only, leave --rendezvous out\n$/,
    })),
    // A typo names what was meant.
    {
      args: ["recieve", "7-lantern-cross"],
      code: 2,
      message: /^error: Unknown command "recieve": did you mean "receive"\? \(known: /,
    },
    {
      args: ["send", `${w.dir}`, "--rendevous", "127.0.0.1:9"],
      code: 2,
      message: /^error: Unknown option --rendevous for "send": did you mean --rendezvous\? \(its /,
    },
    // Over TCP only and without the local network, QUIC can never connect: no code is spent.
    {
      args: [
        "receive",
        "7-lantern-cross",
        "--yes",
        ...w.rendezvous,
        "--tcp",
        "--transport",
        "quic",
      ],
      code: 2,
      message: /--transport quic needs UDP .*--no-local leaves out the local network/,
    },
    { args: ["send", "--bogus"], code: 2, message: /bogus/ },
    // A file named "-notes.txt": the error says how to give it (before: only the option list).
    {
      args: ["send", "-notes.txt", ...w.rendezvous],
      code: 2,
      message:
        /^error: Unknown option -notes\.txt for "send" .*; a file whose name starts with "-" is written \.\/-notes\.txt \(or after --\)$/m,
    },
    // Each command takes only its own flags (issue #25): the error names the ones it takes.
    {
      args: ["receive", "7-lantern-crossword", "--qr"],
      code: 2,
      message: /Unknown option --qr for "receive" \(its options: --out, .*--stdout/,
    },
    {
      args: ["completions", "bash", "--yes"],
      code: 2,
      message: /Unknown option --yes for "completions" \(its options: --help/,
    },
    {
      args: ["help", "bogus"],
      code: 2,
      message: /Unknown command "bogus" \(known: send, receive, serve, doctor, completions, help\)/,
    },
    // Option errors are one sentence of p2pft's, not the parser's ("argument is ambiguous").
    { args: ["send", "x", "--timeout", "-5"], code: 2, message: /--timeout must be .*"-5"/ },
    { args: ["send", "x", "--code", "--qr"], code: 2, message: /--code needs a value/ },
    { args: ["send", "x", "--timeout"], code: 2, message: /--timeout needs a value/ },
    { args: ["send", "x", "--qr=yes"], code: 2, message: /--qr takes no value/ },
    { args: ["serve", "--port", "70000"], code: 2, message: /--port/ },
    { args: ["serve", "--port", "0x10"], code: 2, message: /--port .*"0x10"/ },
    // A --host this host cannot take is the user's to fix (before: "unexpected failure: ...").
    {
      args: ["serve", "--host", "", "--port", "0"],
      code: 2,
      message: /^error: --host is empty \(an unset variable in --host "\$VAR"\?\); leave it out/,
    },
    {
      args: ["serve", "--host", "192.0.2.1", "--port", "0"],
      code: 2,
      message:
        /^error: Cannot listen on --host 192\.0\.2\.1: it is not an address of this host; give an address of this host/,
    },
    {
      args: ["serve", "--host", "127.0.0.1", "--port", "0", "--metrics", "192.0.2.1:9100"],
      code: 2,
      message:
        /^error: Cannot listen on --metrics 192\.0\.2\.1:9100: it is not an address of this host; give an address of this host and a free port \(HOST:0: any free port\)\n$/,
    },
    // The running server's TCP port (before: "Address already in use (os error 98)").
    {
      args: ["serve", "--host", "127.0.0.1", "--port", "0", "--metrics", w.server],
      code: 1,
      message: new RegExp(
        `^error: Cannot listen on --metrics ${w.server}: the port is already in use by another program: choose another \\(HOST:0: any free port\\)\n$`,
      ),
    },
    { args: ["send", "x", ...w.rendezvous, "--timeout", "1e3"], code: 2, message: /"1e3"/ },
    {
      args: ["serve", "--host", "127.0.0.1", "--port", w.server.split(":")[1]],
      code: 1,
      message: new RegExp(
        `^error: UDP port ${
          w.server.split(":")[1]
        } on 127\\.0\\.0\\.1 \\(rendezvous\\) is already in use by another program \\(another p2pft serve\\?\\): stop it, or choose another --port \\(serve takes that port and the two after it\\)\n$`,
      ),
    },
    {
      args: [
        "send",
        `${w.dir}`,
        "--rendezvous",
        `127.0.0.1:${silentPort}`,
        "--no-local",
        "--timeout",
        "1",
      ],
      code: 1,
      message: new RegExp(`rendezvous server 127\\.0\\.0\\.1:${silentPort} did not answer`),
    },
    {
      // Without --timeout: UDP gets no answer, and nothing listens on TCP there either.
      args: ["send", `${w.dir}`, "--rendezvous", `127.0.0.1:${silentPort}`, "--no-local"],
      code: 1,
      message: new RegExp(
        `^error: The rendezvous server 127\\.0\\.0\\.1:${silentPort} did not answer over UDP within 1 s, nor over TCP: Connection refused \\(is it running, at that address and port\\?\\)\n$`,
      ),
    },
    {
      args: ["send", `${w.dir}`, ...w.rendezvous, "--code", "7-lantern-crossword"],
      code: 2,
      message: /"lantern" is not in the word list; did you mean/,
    },
  ];
  for (const testCase of cases) {
    const run = w.spawnCli(testCase.args, { env: testCase.env ?? { P2PFT_RENDEZVOUS: "" } });
    const result = await run.finished();
    const label = testCase.args.join(" ");
    assert.equal(result.code, testCase.code, `${label}: ${result.stderr}`);
    assert.match(result.stderr, /^error: /, label);
    assert.match(result.stderr, testCase.message, label);
    assert.equal(result.stderr.trim().split("\n").length, 1, `${label}: ${result.stderr}`);
  }
  silent.close();
  const scripted = await w.spawnCli(["send", "x", "--json", "--bogus"]).finished();
  assert.equal(scripted.code, 2);
  assert.deepEqual(scripted.events.map((event) => event.type), ["error"]);
  assert.match(String(scripted.events[0].message), /^Unknown option --bogus for "send"/);
  // A command without --json says even that mistake once, as a line for people.
  const plain = await w.spawnCli(["completions", "bash", "--json"]).finished();
  assert.equal(plain.code, 2);
  assert.equal(plain.stdout, "");
  assert.match(plain.stderr, /^error: Unknown option --json for "completions"[^\n]*\n$/);
});

e2e("--version and help print and exit 0", async (signal) => {
  await using w = await world(signal);
  for (
    const args of [
      ["--help"],
      ...["send", "receive", "serve", "doctor", "completions", "help"].map((
        name,
      ) => ["help", name]),
    ]
  ) {
    const result = await w.spawnCli(args).finished();
    assert.equal(result.code, 0, result.stderr);
    assert.ok(result.stdout.length > 5);
    // Written for a 100-column terminal (before: two paragraphs and a note ran past it).
    const long = result.stdout.split("\n").filter((line) => line.length > 100);
    assert.deepEqual(long, [], args.join(" "));
  }
  const version = (await w.spawnCli(["--version"]).finished()).stdout;
  assert.match(version, /^p2pft \d+\.\d+\.\d+ \(protocols: /);
  // The transfer protocol it speaks (5), and the oldest it works with (the wire's byte, 4): before,
  // only the byte, "transfer 4".
  assert.match(version, new RegExp(`, transfer ${SPOKEN_VERSION} and ${PROTOCOL_VERSION}\\)\n$`));
  assert.match(version, new RegExp(`tls-link ${TLS_LINK_VERSION}, `));
  // Before: the first line had no "Usage: ", the next ones were indented as if it had.
  const sendHelp = (await w.spawnCli(["send", "--help"]).finished()).stdout;
  assert.match(
    sendHelp,
    /^Usage: p2pft send <paths\.\.\.> \[options\]\n {7}p2pft send --text TEXT \[options\]/,
  );
  const receiveHelp = (await w.spawnCli(["help", "receive"]).finished()).stdout;
  assert.match(receiveHelp, /A code works once/);
  assert.doesNotMatch(receiveHelp, /same command again/);
  // Flags the other side must match say so (a mismatch fails both sides).
  assert.match(receiveHelp, /the\s+other\s+side\s+must\s+allow\s+the\s+relay/);
  assert.match(receiveHelp, /the\s+other\s+side\s+must\s+allow\s+it\s+too/);
});

e2e(
  "doctor names why a server that is not there does not answer over TCP, in one short reason",
  async (signal) => {
    await using w = await world(signal);
    // A port nothing listens on: TCP is refused, UDP gets no answer.
    const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const server = `127.0.0.1:${(free.addr as Deno.NetAddr).port}`;
    free.close();
    const doctor = await w.spawnCli(["doctor", "--rendezvous", server, "--no-local", "--json"])
      .finished();
    assert.equal(doctor.code, 1, doctor.stderr);
    assert.equal(doctor.stderr, "error: doctor: 4 checks failed (udp, tcp, nat, path)\n");
    // No server and no local network: only the path fails (before: "1 checks failed").
    const alone = await w.spawnCli(["doctor", "--no-local"], { env: { P2PFT_RENDEZVOUS: "" } })
      .finished();
    assert.equal(alone.code, 1, alone.stderr);
    assert.equal(alone.stderr, "error: doctor: 1 check failed (path)\n");
    const tcp = doctor.events.find((event) => event.type === "check" && event.check === "tcp");
    // Not Deno's "Connection refused (os error 111)".
    assert.equal(
      tcp?.summary,
      `the rendezvous server ${server} does not answer over TCP: Connection refused`,
    );
  },
);
