/**
 * A hostile sender for the end-to-end security tests. It pairs like a real
 * sender (`connectPeer`: rendezvous, punching, QUIC, SPAKE2), then speaks the
 * transfer protocol BY HAND, from transfer/PROTOCOL.md alone (no import from
 * transfer/), offering the hostile manifest named on the command line.
 *
 *   deno run -A tests/security/malicious_sender.ts --rendezvous 127.0.0.1:PORT CASE
 *
 * stdout, one JSON object a line: `code` (give it to `p2pft receive`),
 * `connected`, `plan` (the receiver's PLAN items), `peer-error` (the
 * receiver's ERROR frame: code and message), `peer-done`, `peer-end` (FIN
 * without a frame), then `finished` with the file bytes written on data
 * streams. Exit 0 once the case ran, whatever the receiver did.
 */
import { createHash } from "node:crypto";
import { type ByteStream, connectPeer, formatCode, generateWords } from "../../peer/mod.ts";
import { HOSTILE_CASES, type HostileCase } from "./_hostile_cases.ts";
import { concatBytes } from "../../base/mod.ts";

// Frame types, transfer/PROTOCOL.md "Message table".
export const HELLO = 0x01;
export const ENTRIES = 0x02;
export const MANIFEST_END = 0x03;
export const PLAN = 0x10;
export const PLAN_END = 0x11;
export const DECISIONS = 0x12;
export const START = 0x13;
export const ASKING = 0x14;
export const DATA_HELLO = 0x20;
export const DATA = 0x21;
export const DONE = 0x30;
export const ERROR = 0x7f;
export const SEGMENT_SIZE = 1024 * 1024;
const PLAN_ITEM_BYTES = 45;
/** HELLO and DATA_HELLO version, transfer/PROTOCOL.md. */
export const VERSION = 4;
/** After each file's bytes: status 0x00 (read as scanned) and its SHA-256. */
export const AS_SCANNED = 0x00;
export const TRAILER_BYTES = 1 + 32;

const utf8 = new TextEncoder();

function emit(event: Record<string, unknown>): void {
  console.log(JSON.stringify(event));
}

/** type u8 | length u32 BE | payload. `length` may lie (hostile cases). */
export function frame(type: number, payload: Uint8Array, length = payload.length): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  out[0] = type;
  new DataView(out.buffer).setUint32(1, length);
  out.set(payload, 5);
  return out;
}

function setU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, Math.floor(value / 2 ** 32));
  view.setUint32(offset + 4, value >>> 0);
}

/** version u8 | streams u8 | flags u8 (0: files) | reserved u8 | segmentSize u32 | entries, files, dirs u32 | total u64 | links u32. */
export function hello(files: number, directories: number, totalBytes: number): Uint8Array {
  const out = new Uint8Array(32);
  const view = new DataView(out.buffer);
  view.setUint8(0, VERSION);
  view.setUint8(1, 1);
  view.setUint32(4, SEGMENT_SIZE);
  view.setUint32(8, files + directories);
  view.setUint32(12, files);
  view.setUint32(16, directories);
  setU64(view, 20, totalBytes);
  return out;
}

/** kind u8 | flags u8 | mode u16 | size u64 | mtimeMs f64 | pathLen u16 | path. */
export function entry(kind: "file" | "dir", path: string, size: number): Uint8Array {
  const name = utf8.encode(path);
  const out = new Uint8Array(22 + name.length);
  const view = new DataView(out.buffer);
  view.setUint8(0, kind === "file" ? 0 : 1);
  view.setUint8(1, 0); // no mtime
  view.setUint16(2, kind === "file" ? 0o644 : 0o755);
  setU64(view, 4, size);
  view.setUint16(20, name.length);
  out.set(name, 22);
  return out;
}

/** MANIFEST_END: entries u32, skipped u32 (none). */
export function manifestEnd(entries: number): Uint8Array {
  return concatBytes([u32(entries), u32(0)]);
}

export function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

/** streams u8 | reserved u8×3 | decisions u32 | dataBytes u64. */
export function start(streams: number, decisions: number, dataBytes: number): Uint8Array {
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  view.setUint8(0, streams);
  view.setUint32(4, decisions);
  setU64(view, 8, dataBytes);
  return out;
}

export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

/** Reads whole frames off the receiver's side of the control stream. */
export class FrameReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buffer: Uint8Array = new Uint8Array(0);

  constructor(readable: ReadableStream<Uint8Array>) {
    this.#reader = readable.getReader();
  }

  async #need(n: number): Promise<boolean> {
    while (this.#buffer.length < n) {
      const { value, done } = await this.#reader.read();
      if (done) return false;
      this.#buffer = concatBytes([this.#buffer, value]);
    }
    return true;
  }

  /** The next frame, or undefined at the end of the stream. */
  async next(): Promise<{ type: number; payload: Uint8Array } | undefined> {
    if (!(await this.#need(5))) return undefined;
    const length = new DataView(this.#buffer.buffer, this.#buffer.byteOffset).getUint32(1);
    if (length > 1024 * 1024 + 5) throw new Error(`receiver frame of ${length} bytes`);
    if (!(await this.#need(5 + length))) throw new Error("receiver stream ended inside a frame");
    const type = this.#buffer[0];
    const payload = this.#buffer.slice(5, 5 + length);
    this.#buffer = this.#buffer.slice(5 + length);
    return { type, payload };
  }

  release(): void {
    this.#reader.releaseLock();
  }
}

/** Emits what the receiver said last; true if the transfer is over. */
function report(got: { type: number; payload: Uint8Array } | undefined): boolean {
  if (got === undefined) {
    emit({ type: "peer-end" });
    return true;
  }
  if (got.type === ERROR) {
    const message = new TextDecoder().decode(got.payload.subarray(1));
    emit({ type: "peer-error", code: got.payload[0], message });
    return true;
  }
  if (got.type === DONE) {
    emit({ type: "peer-done" });
    return true;
  }
  return false;
}

/** Runs one hostile case on an authenticated session; returns the file bytes sent. */
async function play(session: { openStream(): Promise<ByteStream> }, hostile: HostileCase) {
  const control = await session.openStream();
  const writer = control.writable.getWriter();
  const reader = new FrameReader(control.readable);
  const files = hostile.entries.filter((item) => item.kind === "file");
  const directories = hostile.entries.length - files.length;
  const manifestBytes = files.reduce((sum, item) => sum + item.size, 0);
  await writer.write(frame(HELLO, hello(files.length, directories, manifestBytes)));
  if (hostile.rawAfterHello) {
    await writer.write(hostile.rawAfterHello);
  } else {
    const entries = hostile.entries.map((item) =>
      entry(item.kind, item.path, item.kind === "file" ? item.size : 0)
    );
    await writer.write(frame(ENTRIES, concatBytes(entries)));
    await writer.write(frame(MANIFEST_END, manifestEnd(entries.length)));
  }
  // The receiver answers the offer with PLAN..., PLAN_END or with ERROR.
  const plan: Array<{ index: number; kind: number; length: number }> = [];
  for (;;) {
    const got = await reader.next();
    if (got?.type === PLAN) {
      const view = new DataView(got.payload.buffer, got.payload.byteOffset);
      for (let at = 0; at + PLAN_ITEM_BYTES <= got.payload.length; at += PLAN_ITEM_BYTES) {
        plan.push({
          index: view.getUint32(at),
          kind: view.getUint8(at + 4),
          length: view.getUint32(at + 9),
        });
      }
      continue;
    }
    if (got?.type === PLAN_END) break;
    if (report(got)) return 0;
    throw new Error(`unexpected frame 0x${got!.type.toString(16)} before PLAN_END`);
  }
  emit({ type: "plan", items: plan });
  // Hostile on purpose: every planned file (even one that exists) is "send from 0".
  if (plan.length > 0) {
    const decisions = concatBytes(plan.map((item) => {
      const out = new Uint8Array(5);
      new DataView(out.buffer).setUint32(0, item.index);
      return out; // action 0: send from 0
    }));
    await writer.write(frame(DECISIONS, decisions));
  }
  const logical = concatBytes(
    files.flatMap((item) => {
      const content = item.content ?? new Uint8Array(item.size).fill(0x61);
      const digest = hostile.wrongDigest ? sha256(utf8.encode("not it")) : sha256(content);
      return [content, Uint8Array.of(AS_SCANNED), digest];
    }),
  );
  const honest = manifestBytes + TRAILER_BYTES * files.length;
  const dataBytes = hostile.startAnnounces === "sent" ? logical.length : honest;
  await writer.write(frame(START, start(dataBytes > 0 ? 1 : 0, plan.length, dataBytes)));
  let sent = 0;
  if (dataBytes > 0) {
    const data = await session.openStream();
    const dataWriter = data.writable.getWriter();
    await dataWriter.write(frame(DATA_HELLO, Uint8Array.of(VERSION, 0, 1)));
    // One segment (every case is far below 1 MiB); its header may announce
    // what START said while the payload carries what the case sends.
    await dataWriter.write(
      frame(DATA, logical, hostile.dataHeaderSays === "start" ? dataBytes : undefined),
    );
    sent = logical.length - TRAILER_BYTES * files.length;
    await dataWriter.close().catch(() => {});
    data.readable.cancel().catch(() => {});
  }
  for (;;) {
    const got = await reader.next();
    if (report(got)) break;
  }
  reader.release();
  await writer.close().catch(() => {});
  return sent;
}

async function main(args: string[]): Promise<number> {
  const at = args.indexOf("--rendezvous");
  const [hostname, port] = (args[at + 1] ?? "").split(":");
  const name = args.find((_, index) => index !== at && index !== at + 1);
  const hostile = HOSTILE_CASES[name ?? ""];
  if (at < 0 || !hostname || !hostile) {
    console.error(
      `error: usage: malicious_sender.ts --rendezvous HOST:PORT CASE (one of ${
        Object.keys(HOSTILE_CASES).join(", ")
      })`,
    );
    return 2;
  }
  const signal = AbortSignal.timeout(40_000);
  try {
    await using session = await connectPeer({
      role: "sender",
      rendezvous: { hostname, port: Number(port) },
      // Host tests stay off the host's own networks (no multicast).
      local: false,
      code: { words: generateWords() },
      onCode: (code) => emit({ type: "code", code: formatCode(code) }),
      relay: "never",
      signal,
    });
    emit({ type: "connected", remote: `${session.remote.hostname}:${session.remote.port}` });
    const fileBytes = await play(session, hostile);
    emit({ type: "finished", fileBytes });
    return 0;
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
