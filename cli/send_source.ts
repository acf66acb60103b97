/** What `p2pft send` offers: files and folders, a stream from stdin, or a short text. */
import { concatBytes, UsageError } from "../base/mod.ts";
import { scanPaths, type SourceManifest, streamManifest } from "../transfer/scan_mod.ts";
import { asUsageError } from "./exit_code.ts";

/** Longest text `send --text` takes (transfer/PROTOCOL.md, TEXT frame). */
export const MAX_TEXT_BYTES = 64 * 1024;
/** The name a stream from stdin gets without --name. */
export const DEFAULT_STREAM_NAME = "stdin";

export type SendSource =
  | { kind: "files"; manifest: SourceManifest }
  | { kind: "stream"; manifest: SourceManifest }
  | { kind: "text"; text: string };

export interface SendSourceOptions {
  /** `--text`: the text, or "-" to read it from stdin. */
  text?: string;
  /** `--name`: the name of the stream sent with `-`. */
  name?: string;
  receivers: number;
  /**
   * stdin, asked for only when read: `Deno.stdin.readable` loads Deno's web streams (~4 ms of the
   * main thread), which a sender of files needs only after its first event.
   */
  stdin: () => ReadableStream<Uint8Array>;
  signal: AbortSignal;
}

/**
 * Reads the command line's choice of what to send; every contradiction is a
 * `UsageError` before anyone is contacted.
 */
export async function sendSource(
  paths: string[],
  options: SendSourceOptions,
): Promise<SendSource> {
  const stream = paths.includes("-");
  if (options.text !== undefined && paths.length > 0) {
    throw new UsageError(`--text sends a text instead of files; got paths too: ${paths.join(" ")}`);
  }
  if (stream && paths.length > 1) {
    throw new UsageError('"-" (stdin) must be the only thing sent; send the files separately');
  }
  if (options.name !== undefined && !stream) {
    throw new UsageError('--name names the stream sent with "-"; there is none');
  }
  if (stream && options.receivers > 1) {
    throw new UsageError(
      `stdin can be read only once; it cannot be sent to ${options.receivers} receivers`,
    );
  }
  if (options.text !== undefined) {
    const text = options.text === "-"
      ? await readText(options.stdin(), options.signal)
      : options.text;
    const bytes = new TextEncoder().encode(text).length;
    // An empty text is almost always an unset variable (`--text "$MSG"`): say so, spend no code.
    if (bytes === 0) {
      throw new UsageError(
        options.text === "-"
          ? "The text on stdin is empty: nothing to send"
          : '--text is empty: nothing to send (an unset variable in --text "$VAR"?)',
      );
    }
    if (bytes > MAX_TEXT_BYTES) {
      throw new UsageError(
        `The text is ${bytes} bytes; --text takes at most ${MAX_TEXT_BYTES} (send it as a file)`,
      );
    }
    return { kind: "text", text };
  }
  if (paths.length === 0) throw new UsageError("Nothing to send: give at least one file or folder");
  // "" would be this folder, whatever it holds: an unset variable (`send "$FILE"`) most often.
  if (paths.includes("")) {
    throw new UsageError(
      'An empty path was given (an unset variable in send "$VAR"?); to send this folder, name it: .',
    );
  }
  if (stream) {
    const name = options.name ?? DEFAULT_STREAM_NAME;
    try {
      return { kind: "stream", manifest: streamManifest(name, options.stdin()) };
    } catch (error) {
      throw new UsageError(`--name ${JSON.stringify(name)}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  // Paths that cannot be sent at all (a device, the file system root) are the user's to fix.
  const manifest = await scanPaths(paths, { signal: options.signal }).catch((error) => {
    throw asUsageError(error);
  });
  return { kind: "files", manifest };
}

/** All of stdin as UTF-8, stopping one byte past the limit (that is already too long). */
async function readText(stdin: ReadableStream<Uint8Array>, signal: AbortSignal): Promise<string> {
  const parts: Uint8Array[] = [];
  let length = 0;
  const reader = stdin.getReader();
  const onAbort = () => reader.cancel().catch(() => {});
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    while (length <= MAX_TEXT_BYTES) {
      const { done, value } = await reader.read();
      signal.throwIfAborted();
      if (done) break;
      parts.push(value);
      length += value.length;
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    reader.releaseLock();
  }
  const bytes = concatBytes(parts);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    throw new UsageError(
      length > MAX_TEXT_BYTES
        ? `The text on stdin is over ${MAX_TEXT_BYTES} bytes; --text takes at most that (send it as a file)`
        : "The text on stdin is not valid UTF-8; send it as a file",
      { cause: error },
    );
  }
}

/** The UTF-8 size of a text sent with `--text`. */
export function textBytes(text: string): number {
  return new TextEncoder().encode(text).length;
}
