/** Test helpers: temp trees, listings, and running both roles on an in-memory connection. */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { memoryConnectionPair } from "./_testing_memory_connection.ts";
import { peerWasTold } from "./_control.ts";
import { receiveFiles } from "./receive_files.ts";
import { sendFiles } from "./send_files.ts";
import { scanPaths } from "./scan_paths.ts";
import { FRAME_HEADER_BYTES, FrameType } from "./wire/mod.ts";
import type {
  ReceiveFilesOptions,
  SendFilesOptions,
  StreamConnection,
  TransferReport,
} from "./types.ts";

/** Runs `fn` with a signal that aborts after `ms`; the timer is always cleared. */
export async function withTimeout<T>(
  ms: number,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`test timed out after ${ms} ms`)), ms);
  try {
    return await fn(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

/** What {@link withDirs} hands a test: its time limit and two fresh folders. */
export interface DirsTest {
  signal: AbortSignal;
  /** Where the sender's files go. */
  src: string;
  /** The receiver's output folder. */
  dst: string;
}

/** Runs `fn` within `ms` with fresh source and destination folders, removed after. */
export async function withDirs(ms: number, fn: (test: DirsTest) => Promise<void>): Promise<void> {
  await withTimeout(ms, async (signal) => {
    await using src = await tempDir();
    await using dst = await tempDir();
    await fn({ signal, src: src.path, dst: dst.path });
  });
}

/** A temp directory removed by `await using`. */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "p2pft-transfer-" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await makeWritable(path);
      await Deno.remove(path, { recursive: true });
    },
  };
}

async function makeWritable(path: string): Promise<void> {
  const info = await Deno.lstat(path);
  if (info.isDirectory) {
    await Deno.chmod(path, 0o700);
    for await (const child of Deno.readDir(path)) await makeWritable(join(path, child.name));
  }
}

/** Deterministic pseudo-random bytes. */
export function randomBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export interface Listed {
  path: string;
  kind: "file" | "directory" | "symlink";
  mode: number;
  size: number;
  sha256?: string;
}

/** Everything under `root`, sorted by path (relative POSIX paths). */
export async function listTree(root: string): Promise<Listed[]> {
  const out: Listed[] = [];
  async function walk(dir: string, prefix: string) {
    for await (const child of Deno.readDir(dir)) {
      const path = prefix ? `${prefix}/${child.name}` : child.name;
      const full = join(dir, child.name);
      const info = await Deno.lstat(full);
      const mode = (info.mode ?? 0) & 0o777;
      if (info.isSymlink) out.push({ path, kind: "symlink", mode: 0, size: 0 });
      else if (info.isDirectory) {
        out.push({ path, kind: "directory", mode, size: 0 });
        await walk(full, path);
      } else {
        out.push({
          path,
          kind: "file",
          mode,
          size: info.size,
          sha256: sha256Hex(await Deno.readFile(full)),
        });
      }
    }
  }
  await walk(root, "");
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export interface PairResult {
  sent: PromiseSettledResult<TransferReport>;
  received: PromiseSettledResult<TransferReport>;
}

/** Runs sendFiles and receiveFiles against each other; both settle. */
export async function transferPair(
  paths: string[],
  outDir: string,
  options: {
    signal: AbortSignal;
    send?: Partial<SendFilesOptions>;
    receive?: Partial<ReceiveFilesOptions>;
    wrapSender?: (connection: StreamConnection) => StreamConnection;
    /** Runs between the scan and the send. */
    beforeSend?: () => Promise<void>;
  },
): Promise<PairResult> {
  const [a, b] = memoryConnectionPair();
  const sender = options.wrapSender ? options.wrapSender(a) : a;
  // As the CLI does: a side whose failure the peer was not told about ends
  // the session at once; one that sent an ERROR frame lets the peer read it.
  const endSession = (error: unknown): never => {
    if (!peerWasTold(error)) a.close();
    throw error;
  };
  try {
    const [sent, received] = await Promise.allSettled([
      scanPaths(paths, { signal: options.signal }).then(async (manifest) => {
        await options.beforeSend?.();
        return sendFiles(manifest, { connection: sender, signal: options.signal, ...options.send });
      }).catch(endSession),
      receiveFiles({ connection: b, outDir, signal: options.signal, ...options.receive })
        .catch(endSession),
    ]);
    return { sent, received };
  } finally {
    a.close();
  }
}

/** The value of a fulfilled result, or throws its reason. */
export function value<T>(result: PromiseSettledResult<T>): T {
  if (result.status === "rejected") throw result.reason;
  return result.value;
}

/** The reason of a rejected result, or throws. */
export function reason(result: PromiseSettledResult<unknown>): unknown {
  if (result.status === "fulfilled") throw new Error("expected a rejection, got a result");
  return result.reason;
}

/** XORs one byte at `position` of every data stream (every stream after the control stream). */
export function flipDataByte(
  connection: StreamConnection,
  position: number,
  mask = 0x40,
): StreamConnection {
  let opened = 0;
  return {
    acceptStream: () => connection.acceptStream(),
    openStream: async () => {
      const stream = await connection.openStream();
      if (opened++ === 0) return stream;
      let seen = 0;
      const flipper = new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          if (seen <= position && position < seen + chunk.length) {
            const copy = chunk.slice();
            copy[position - seen] ^= mask;
            chunk = copy;
          }
          seen += chunk.length;
          controller.enqueue(chunk);
        },
      });
      flipper.readable.pipeTo(stream.writable).catch(() => {});
      return { readable: stream.readable, writable: flipper.writable };
    },
  };
}

/**
 * The sender's side of a version 4 receiver: PLAN_END's version 5 flag (inline data) is cleared
 * on its way in, so the sender opens data streams as for a receiver that never set it.
 */
export function version4Receiver(connection: StreamConnection): StreamConnection {
  let opened = 0;
  return {
    acceptStream: () => connection.acceptStream(),
    openStream: async (options) => {
      const stream = await connection.openStream(options);
      if (opened++ > 0) return stream;
      return {
        readable: stream.readable.pipeThrough(clearPlanEndInline()),
        writable: stream.writable,
      };
    },
  };
}

/** Follows the control stream's frames and clears bit 1 of PLAN_END's flags byte. */
function clearPlanEndInline(): TransformStream<Uint8Array, Uint8Array> {
  const header: number[] = [];
  let payloadLeft = 0;
  let flagsAt = -1;
  return new TransformStream({
    transform(chunk, controller) {
      const out = chunk.slice();
      for (let index = 0; index < out.length; index++) {
        if (payloadLeft > 0) {
          if (flagsAt === payloadLeft) out[index] &= ~2;
          payloadLeft--;
          continue;
        }
        header.push(out[index]);
        if (header.length < FRAME_HEADER_BYTES) continue;
        payloadLeft = new DataView(Uint8Array.from(header).buffer).getUint32(1);
        // PLAN_END: items u32, then flags: the byte with `payloadLeft` 1 at the end of 5.
        flagsAt = header[0] === FrameType.PLAN_END ? payloadLeft - 4 : -1;
        header.length = 0;
      }
      controller.enqueue(out);
    },
  });
}
