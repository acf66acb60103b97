/** Sender side: a byte stream of unknown size (stdin) as a manifest of one file. */
import { checkRelativePath } from "./_path_safety.ts";
import type { SourceManifest } from "./scan_paths.ts";

/**
 * The manifest that sends `readable` as one file called `name`, its size
 * unknown until it ends. It can be sent once: the stream is consumed.
 * @throws {UnsafePathError} when `name` is not a safe file name.
 * @throws {RangeError} when `name` has a folder part.
 */
export function streamManifest(name: string, readable: ReadableStream<Uint8Array>): SourceManifest {
  checkRelativePath(name);
  if (name.includes("/")) {
    throw new RangeError(`Cannot send the stream as ${JSON.stringify(name)}: the name has a "/"`);
  }
  return {
    entries: [{
      kind: "file",
      path: name,
      source: "stdin",
      size: 0,
      mode: 0o644,
      mtimeMs: null,
      unknownSize: true,
      stream: readable,
      snapshot: { size: 0, mtimeMs: null, ctimeMs: null, ino: null },
    }],
    files: 1,
    directories: 0,
    links: 0,
    bytes: 0,
    skipped: [],
  };
}
