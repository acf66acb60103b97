/**
 * The one list of Deno flags the `p2pft` command runs with. `deno task install`
 * (scripts/install.ts), `deno task compile` (scripts/compile.ts) and
 * tests/install_test.ts all use it; nothing else spells these flags out.
 *
 * Each flag was found by running the real CLI (serve, send, receive) with
 * `--no-prompt` and adding only what the permission errors asked for.
 */
export const P2PFT_FLAGS: readonly string[] = [
  // Deno.QuicEndpoint and Deno.connectQuic are behind --unstable-net in Deno 2.9.
  // deno.json says `"unstable": ["net"]` too; the flag keeps a compiled binary
  // and an install that lost its config honest.
  "--unstable-net",
  // UDP to the rendezvous server and to the peer (punching, then QUIC), and the
  // DNS lookup of `--rendezvous HOST`. Peers' addresses come from the server at
  // run time, so no host list can be written down in advance.
  "--allow-net",
  // `send` reads the files and folders it is given; `receive` checks `--out` and
  // the names already in it. Both paths are chosen at run time.
  "--allow-read",
  // `receive` creates `--out`, writes NAME.p2pft-partial files and renames them.
  "--allow-write",
  // `receive` makes each batch of received files durable with `sync -f` (syncfs(2)
  // on Linux, transfer/_publish.ts): one sync per batch instead of one per file.
  // And it drops a big file's synced pages from the page cache with GNU `dd
  // iflag=nocache count=0` (posix_fadvise, base/drop_cache.ts), which
  // saves the kernel ~1.5 CPU s per GiB received on a VM that hands freed
  // memory back to its host.
  "--allow-run=sync,dd",
  // The LAN addresses a peer on the same network can use.
  "--allow-sys=networkInterfaces",
  // The default rendezvous server; no npm dependency reads any other variable.
  "--allow-env=P2PFT_RENDEZVOUS",
  // A missing permission is a one-line error, never an interactive prompt.
  "--no-prompt",
];
