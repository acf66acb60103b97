/**
 * What `main.ts` loads before it dispatches: the parser and the option
 * tables only. Each command's implementation (and with it peer/, rendezvous/,
 * transfer/, local/ and npm packages) is a dynamic `import()` in its runner.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
}

/** Every module `entry` loads before running, following static value imports only. */
async function staticGraph(entry: URL): Promise<string[]> {
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", fileURLToPath(entry)],
    stdout: "piped",
    stderr: "inherit",
    signal: AbortSignal.timeout(60_000),
  }).output();
  assert.ok(info.success, "deno info failed");
  const modules = new Map<string, InfoModule>(
    (JSON.parse(new TextDecoder().decode(info.stdout)).modules as InfoModule[])
      .map((module) => [module.specifier, module]),
  );
  const seen = new Set([entry.href]);
  for (const specifier of seen) {
    for (const dependency of modules.get(specifier)?.dependencies ?? []) {
      if (dependency.code !== undefined && !dependency.isDynamic) {
        seen.add(dependency.code.specifier);
      }
    }
  }
  const root = new URL("../", import.meta.url).href;
  return [...seen].map((specifier) => specifier.replace(root, "")).sort();
}

Deno.test("main.ts loads the parser and option tables, no command, before dispatch", async () => {
  const loaded = await staticGraph(new URL("../main.ts", import.meta.url));
  assert.ok(loaded.includes("cli/options.ts") && loaded.includes("cli/commands.ts"), `${loaded}`);
  // A command's code, the layers under it, or a package: each only after dispatch.
  const late =
    /^(cli\/.*_command\.ts|cli\/(completions|doctor_checks|qr)\.ts|(peer|rendezvous|transfer|pake|local)\/|npm:|jsr:|https?:|node:(fs|net|tls|crypto|dgram|path)$)/;
  assert.deepEqual(loaded.filter((module) => late.test(module)), []);
});

Deno.test("send and receive load no server, Redis, QR, doctor, completions, local discovery or node: code", async () => {
  // node:crypto (with node:tls and node:buffer) costs a process ~30 ms of CPU to load: a transfer
  // loads it only for a file big enough to need its hash (transfer/_sha256.ts); node:dgram only
  // when it binds its punch port (peer/punch/_punch_socket.ts). Any of node:fs, node:net,
  // node:tls or node:crypto starts Deno's Node layer (~45 ms): node:fs only for the free-space
  // check (base/free_space.ts). node:path alone costs ~20 ms: base/path.ts has what comes first.
  // Local discovery (local/) loads only to look on the LAN, after a sender's register.
  const others =
    /^(rendezvous\/(server_mod\.ts|server\/|store\/|relay\/|sockets\/)|cli\/(qr|doctor_checks|doctor_command|completions|serve_command)\.ts|local\/(?!nameplate(_mod)?\.ts$)|npm:\/(@redis|qrcode)|node:(crypto|tls|net|fs|buffer|dgram|path)$)/;
  for (const command of ["send_command.ts", "send_session.ts", "receive_command.ts"]) {
    const loaded = await staticGraph(new URL(command, import.meta.url));
    assert.deepEqual(loaded.filter((module) => others.test(module)), [], command);
  }
});

Deno.test("send shows its offer before loading the link's code: of peer/ only the code words", async () => {
  // The offer is send's first event; finding, linking and authenticating the receiver
  // (send_session.ts: peer/, pake/, local/, about two thirds of send's modules) load after it,
  // and so does noble's SHA-2 family (~10 ms).
  const loaded = await staticGraph(new URL("send_command.ts", import.meta.url));
  const link = /^(peer\/(?!code(_mod)?\.ts$)|pake\/|local\/|cli\/send_session\.ts|npm:\/@noble\/)/;
  assert.deepEqual(loaded.filter((module) => link.test(module)), []);
  // Nor the rendezvous client and wire, nor transfer/ beyond the scan (transfer/scan_mod.ts) and
  // the wire's limits: the code and address checks need only rendezvous/wire/checks_mod.ts, the
  // scan only transfer/wire/limits_mod.ts (each wire's codecs, ~9 modules, load after the offer),
  // and the wires their versions.
  const later =
    /^(rendezvous\/(?!version_mod\.ts$|wire\/(checks_mod|_fields|_addr)\.ts$)|transfer\/(?!scan_mod\.ts$|scan_paths\.ts$|_stdin_source\.ts$|_path_safety\.ts$|version_mod\.ts$|wire\/(limits_mod|_frame)\.ts$))/;
  assert.deepEqual(loaded.filter((module) => later.test(module)), []);
});

Deno.test("send loads none of the receiver's transfer code: its planning, partials and publishing", async () => {
  // transfer/send_mod.ts is what send_session.ts and peer/ take from transfer/.
  const receiving =
    /^transfer\/(receive_files|_receive_|_publish|_partial_file|_free_name|_name_rules)/;
  for (const command of ["send_command.ts", "send_session.ts"]) {
    const loaded = await staticGraph(new URL(command, import.meta.url));
    assert.deepEqual(loaded.filter((module) => receiving.test(module)), [], command);
  }
});

Deno.test("send registers before loading transfer/'s sending half", async () => {
  // Loaded once the rendezvous server answered (send_session.ts, loadSending), while the sender
  // waits for its receiver: of transfer/ it registers with the first streams' count alone.
  const loaded = await staticGraph(new URL("send_session.ts", import.meta.url));
  const sending = /^transfer\/(send_mod|send_files|send_text|_send_|_read_ahead|_control)/;
  assert.deepEqual(loaded.filter((module) => sending.test(module)), []);
});

Deno.test("send and receive register before loading the PAKE, QUIC and the links", async () => {
  // peer/connect.ts loads them (peer/_link_phase.ts) once the register is answered.
  const linking =
    /^(pake\/|peer\/(quic\/|_link_phase\.ts|_punch_link\.ts|_session\.ts|_early_share\.ts)|npm:\/@noble\/curves)/;
  for (const command of ["send_session.ts", "receive_command.ts"]) {
    const loaded = await staticGraph(new URL(command, import.meta.url));
    assert.deepEqual(loaded.filter((module) => linking.test(module)), [], command);
  }
});

Deno.test("receive registers before loading the TLS link and the certificate code", async () => {
  // Only a sender makes a certificate and listens for TLS before its register
  // (peer/_local_end.ts, peer/_punch_port.ts); a receiver's come with its link (peer/_link_phase.ts).
  const loaded = await staticGraph(new URL("receive_command.ts", import.meta.url));
  assert.deepEqual(loaded.filter((module) => /^peer\/(tls|cert)\//.test(module)), []);
});

Deno.test("receive registers before loading transfer/'s receiving half, and never loads its sending half", async () => {
  // Loaded while it waits for its sender (receive_command.ts, loadReceiving): its first event,
  // the rendezvous server's answer, does not wait for those modules.
  const loaded = await staticGraph(new URL("receive_command.ts", import.meta.url));
  const receiving = /^transfer\/(receive_files|_receive_|_publish|_partial_file|_free_name)/;
  assert.deepEqual(loaded.filter((module) => receiving.test(module)), []);
  // Nor the sender's half, which it never needs (peer/ takes the stream limit from transfer/wire/).
  const sending = /^transfer\/(send_mod|send_files|send_text|_send_|_read_ahead|scan_)/;
  assert.deepEqual(loaded.filter((module) => sending.test(module)), []);
});

Deno.test("receive's transfer code loads no node: module", async () => {
  // A receiver's only node: module on a small transfer is node:dgram (its punch port): node:path
  // is base/path.ts, and node:fs (~45 ms of CPU beyond node:dgram) loads only to check the free
  // space for an offer of 1 MiB or more (transfer/_receive_space.ts).
  const loaded = await staticGraph(new URL("../transfer/receive_mod.ts", import.meta.url));
  assert.deepEqual(loaded.filter((module) => module.startsWith("node:")), []);
});
