/**
 * The hostile offers `malicious_sender.ts` can make, and what the real
 * receiver must answer to each: its one-line error and the ERROR code it
 * sends back (transfer/PROTOCOL.md: 1 protocol, 2 hash, 3 refused, 4 unsafe).
 */

export interface HostileItem {
  kind: "file" | "dir";
  path: string;
  /** The size the manifest announces (files). */
  size: number;
  /** The bytes actually sent (default: `size` bytes of "a"). */
  content?: Uint8Array;
}

export interface HostileCase {
  entries: HostileItem[];
  /** Raw bytes written right after HELLO instead of the manifest. */
  rawAfterHello?: Uint8Array;
  /** START announces the bytes really sent (`sent`) or what the manifest implies (default). */
  startAnnounces?: "sent" | "manifest";
  /** The DATA header says START's length (default: the payload's true length). */
  dataHeaderSays?: "start" | "payload";
  /** Send the SHA-256 of other bytes after good file bytes. */
  wrongDigest?: boolean;
  /** What the receiver must print (`error: ...`, one line) and send back in ERROR. */
  expect: {
    stderr: RegExp;
    errorCode: number;
    /** The receiver's PLAN items, when it got that far (index, kind 1 exists / 2 partial, length). */
    plan?: Array<{ index: number; kind: number; length: number }>;
  };
  /** Flags for the receiver beyond the usual ones. */
  receiveArgs?: string[];
  /** Run in the receiver's --out before the transfer (`elsewhere` is a dir outside it). */
  setup?: (out: string, elsewhere: string) => Promise<void>;
}

const file = (path: string, size = 5): HostileItem => ({ kind: "file", path, size });
const dir = (path: string): HostileItem => ({ kind: "dir", path, size: 0 });
const bytes = (text: string) => new TextEncoder().encode(text);
const unsafe = (why: RegExp) => ({ stderr: why, errorCode: 4 });

/** ENTRIES header claiming 4 GiB - 1, with no payload behind it. */
function oversizedHeader(): Uint8Array {
  const out = new Uint8Array(5);
  out[0] = 0x02;
  new DataView(out.buffer).setUint32(1, 0xffff_ffff);
  return out;
}

export const HOSTILE_CASES: Record<string, HostileCase> = {
  "dot-dot": {
    entries: [file("../escape")],
    expect: unsafe(/^error: Refusing unsafe path "\.\.\/escape": contains a "\.\." segment$/),
  },
  "absolute": {
    entries: [file("/abs/path")],
    expect: unsafe(/^error: Refusing unsafe path "\/abs\/path": absolute path$/),
  },
  // A backslash or a control character is an ordinary character on Linux (version 4): not here.
  "reserved-suffix": {
    entries: [file("x.p2pft-partial")],
    expect: unsafe(
      /^error: Refusing unsafe path "x\.p2pft-partial": the \.p2pft-partial suffix is reserved for what an interrupted receive keeps$/,
    ),
  },
  "nul-in-name": {
    entries: [file("a\u0000b")],
    expect: unsafe(/^error: Refusing unsafe path "a\\u0000b": contains NUL$/),
  },
  "long-segment": {
    entries: [file("x".repeat(256))],
    expect: unsafe(/^error: Refusing unsafe path "x+": segment longer than 255 bytes$/),
  },
  "dot-segment": {
    entries: [dir("a"), file("a/./b")],
    expect: unsafe(/^error: Refusing unsafe path "a\/\.\/b": contains a "\." segment$/),
  },
  "empty-segment": {
    entries: [dir("a"), file("a//b")],
    expect: unsafe(/^error: Refusing unsafe path "a\/\/b": empty path segment$/),
  },
  // A symlink at a folder's or file's name is an existing name: the entry goes beside it
  // (never through it; transfer/hostile_manifest_test.ts). A symlink at a partial's is refused.
  "symlink-partial": {
    entries: [file("x.txt")],
    setup: (out, elsewhere) => Deno.symlink(`${elsewhere}/t`, `${out}/x.txt.p2pft-partial`),
    expect: unsafe(/^error: Refusing "x\.txt": .*\/x\.txt\.p2pft-partial is a symbolic link$/),
  },
  "size-lie-more": {
    entries: [{ kind: "file", path: "x.bin", size: 10, content: bytes("twenty bytes, not 10") }],
    startAnnounces: "sent",
    expect: {
      stderr: /^error: Cannot decode START: 53 data bytes announced, 43 expected$/,
      errorCode: 1,
    },
  },
  "size-lie-fewer": {
    entries: [{ kind: "file", path: "x.bin", size: 10, content: bytes("five!") }],
    startAnnounces: "sent",
    expect: {
      stderr: /^error: Cannot decode START: 38 data bytes announced, 43 expected$/,
      errorCode: 1,
    },
  },
  "size-lie-more-in-data": {
    entries: [{ kind: "file", path: "x.bin", size: 10, content: bytes("twenty bytes, not 10") }],
    expect: {
      // Version 2 cannot know the stream's length ahead (a changed file comes
      // again): the lie surfaces where the file's status byte should be.
      stderr: /^error: Cannot decode data for x\.bin: unexpected status \d+$/,
      errorCode: 1,
    },
  },
  "size-lie-fewer-in-data": {
    entries: [{ kind: "file", path: "x.bin", size: 10, content: bytes("five!") }],
    dataHeaderSays: "start",
    expect: {
      // The DATA frame claims more bytes than follow. The receiver decodes the part of a segment
      // that arrived before its stream ended (a relay's byte cap cuts segments: transfer/
      // PROTOCOL.md), so the lie surfaces where x.bin's status byte should be.
      stderr: /^error: Cannot decode data for x\.bin: unexpected status \d+$/,
      errorCode: 1,
    },
  },
  "wrong-hash": {
    entries: [{ kind: "file", path: "x.bin", size: 10, content: bytes("good bytes") }],
    wrongDigest: true,
    expect: {
      stderr:
        /^error: SHA-256 mismatch for x\.bin: received [0-9a-f]{64}, sender has [0-9a-f]{64}$/,
      errorCode: 2,
      plan: [],
    },
  },
  "oversized-frame": {
    entries: [file("fine.txt")],
    rawAfterHello: oversizedHeader(),
    expect: {
      stderr:
        /^error: Cannot decode manifest ENTRIES frame: length 4294967295 exceeds limit of 1048576 bytes$/,
      errorCode: 1,
    },
  },
  "unknown-frame-type": {
    entries: [file("fine.txt")],
    rawAfterHello: Uint8Array.of(0x55, 0, 0, 0, 0),
    expect: { stderr: /^error: Cannot decode manifest: unknown frame type 0x55$/, errorCode: 1 },
  },
  "existing-file-same-size": {
    entries: [{ kind: "file", path: "report.txt", size: 10, content: bytes("HOSTILE!!!") }],
    setup: (out) => Deno.writeTextFile(`${out}/report.txt`, "precious!!"),
    receiveArgs: ["--existing", "skip"],
    expect: {
      stderr: /^error: Cannot decode DECISIONS: send for index 0 does not match the plan$/,
      errorCode: 1,
      plan: [{ index: 0, kind: 1, length: 10 }],
    },
  },
  "existing-file-other-size": {
    entries: [{ kind: "file", path: "report.txt", size: 10, content: bytes("HOSTILE!!!") }],
    setup: (out) => Deno.writeTextFile(`${out}/report.txt`, "precious old version"),
    receiveArgs: ["--existing", "skip"],
    expect: {
      // Kept (PLAN kind 4): the only decision allowed is skip.
      stderr: /^error: Cannot decode DECISIONS: send for index 0 does not match the plan$/,
      errorCode: 1,
      plan: [{ index: 0, kind: 4, length: 0 }],
    },
  },
};
