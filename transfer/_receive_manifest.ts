/** Receiver: read and validate the offer (HELLO, ENTRIES..., MANIFEST_END) before touching the disk. */
import { type ByteReader, EventLoopTurns, ProtocolError, UnsafePathError } from "../base/mod.ts";
import {
  decodeEntries,
  decodeHello,
  decodeManifestEnd,
  decodeNotSent,
  FrameType,
  type Hello,
  LIMITS,
  type ManifestEntry,
  type NotSent,
  readFrame,
} from "./wire/mod.ts";
import { checkLinkTarget, checkRelativePath } from "./_path_safety.ts";
import { decodeText } from "./_text_messages.ts";

export interface ReceivedManifest {
  hello: Hello;
  entries: ManifestEntry[];
  /** What the sender found inside folders but does not send (SKIPPED frames). */
  notSent: NotSent[];
  /** The text of a text offer (HELLO's text flag, then one TEXT frame instead of entries). */
  text?: string;
}

/**
 * Reads the manifest, enforcing the limits, path safety (`UnsafePathError`),
 * parents-before-children, no path twice and the HELLO totals (`ProtocolError`).
 */
export async function readManifest(reader: ByteReader): Promise<ReceivedManifest> {
  const first = await readFrame(reader, { expect: [FrameType.HELLO], what: "offer" });
  const hello = decodeHello(first.payload);
  if (hello.text) return await readText(reader, hello);
  const manifest = new Manifest(hello);
  // Frames already buffered are awaited as microtasks only: 200,000 entries
  // held the event loop for seconds, past the link's idle timeout. A turn is
  // due every few ms, checked per entry: one frame's 5,000 entries took 200 ms
  // under load, and a keep-alive needs several turns to be read.
  const turns = new EventLoopTurns();
  while (true) {
    const frame = await readFrame(reader, {
      expect: [FrameType.ENTRIES, FrameType.SKIPPED, FrameType.MANIFEST_END],
      what: "manifest",
    });
    if (frame.type === FrameType.MANIFEST_END) {
      return manifest.end(decodeManifestEnd(frame.payload));
    }
    manifest.frame(frame.payload.length);
    if (frame.type === FrameType.SKIPPED) {
      manifest.skipped(decodeNotSent(frame.payload));
      continue;
    }
    for (const entry of decodeEntries(frame.payload)) {
      await turns.turn();
      manifest.entry(entry);
    }
  }
}

/** A text offer: one TEXT frame of exactly HELLO's totalBytes. */
async function readText(reader: ByteReader, hello: Hello): Promise<ReceivedManifest> {
  const frame = await readFrame(reader, { expect: [FrameType.TEXT], what: "text offer" });
  if (frame.payload.length !== hello.totalBytes) {
    throw new ProtocolError(
      `Cannot decode TEXT: ${frame.payload.length} bytes, HELLO announced ${hello.totalBytes}`,
    );
  }
  return { hello, entries: [], notSent: [], text: decodeText(frame.payload) };
}

/** The manifest as it arrives, each part checked as it comes and the totals at the end. */
class Manifest {
  readonly entries: ManifestEntry[] = [];
  readonly notSent: NotSent[] = [];
  #directories = new Set<string>();
  #paths = new Set<string>();
  #manifestBytes = 0;
  #files = 0;
  #links = 0;
  #bytes = 0;

  constructor(readonly hello: Hello) {}

  /** An ENTRIES or SKIPPED frame of `bytes`: the whole manifest has a limit. */
  frame(bytes: number): void {
    this.#manifestBytes += bytes;
    if (this.#manifestBytes > LIMITS.maxManifestBytes) {
      throw new ProtocolError(`Cannot decode manifest: more than ${LIMITS.maxManifestBytes} bytes`);
    }
  }

  skipped(items: NotSent[]): void {
    this.notSent.push(...items);
    if (this.notSent.length > LIMITS.maxEntries) {
      throw new ProtocolError(`Cannot decode manifest: more than ${LIMITS.maxEntries} skipped`);
    }
  }

  entry(entry: ManifestEntry): void {
    if (this.entries.length >= this.hello.entries) {
      throw new ProtocolError(
        `Cannot decode manifest: more than the ${this.hello.entries} entries announced`,
      );
    }
    checkRelativePath(entry.path);
    if (this.#paths.has(entry.path)) {
      throw new UnsafePathError(
        `Refusing the offer: ${JSON.stringify(entry.path)} appears twice in the manifest`,
      );
    }
    this.#paths.add(entry.path);
    const slash = entry.path.lastIndexOf("/");
    if (slash >= 0 && !this.#directories.has(entry.path.slice(0, slash))) {
      throw new ProtocolError(
        `Cannot decode manifest: ${JSON.stringify(entry.path)} comes before its directory`,
      );
    }
    if (entry.kind === "directory") this.#directories.add(entry.path);
    else if (entry.kind === "symlink") {
      checkLinkTarget(entry.path, entry.target!);
      this.#links++;
    } else {
      this.#files++;
      this.#bytes += entry.size;
      if (this.#bytes > Number.MAX_SAFE_INTEGER) {
        throw new ProtocolError("Cannot decode manifest: total size overflows");
      }
    }
    this.entries.push(entry);
  }

  /** MANIFEST_END: every count must match what HELLO announced and what arrived. */
  end(end: { entries: number; skipped: number }): ReceivedManifest {
    const { hello, entries, notSent } = this;
    if (end.entries !== entries.length || end.entries !== hello.entries) {
      throw new ProtocolError(
        `Cannot decode manifest: MANIFEST_END says ${end.entries} entries, HELLO ${hello.entries}, received ${entries.length}`,
      );
    }
    if (end.skipped !== notSent.length) {
      throw new ProtocolError(
        `Cannot decode manifest: MANIFEST_END says ${end.skipped} skipped, received ${notSent.length}`,
      );
    }
    if (
      this.#files !== hello.files || this.#bytes !== hello.totalBytes ||
      this.#links !== hello.links
    ) {
      throw new ProtocolError(
        `Cannot decode manifest: ${this.#files} files of ${this.#bytes} bytes, HELLO announced ${hello.files} files of ${hello.totalBytes} bytes`,
      );
    }
    return { hello, entries, notSent };
  }
}
