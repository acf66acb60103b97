/** Human-readable sizes, rates and durations for the CLI. */

import { formatBytes } from "../base/mod.ts";

export { formatBytes, formatBytesAtLeast } from "../base/mod.ts";

/** MB/s; below 0.05 MB/s (a small file, a slow link) kB/s, which "0.0 MB/s" read as a stall. */
export function formatRate(bytesPerSecond: number): string {
  // A few bytes in a fraction of a second: "40 B/s", not "0.0 kB/s", which reads like a stall.
  if (bytesPerSecond > 0 && bytesPerSecond < 50) return `${Math.round(bytesPerSecond)} B/s`;
  if (bytesPerSecond > 0 && bytesPerSecond < 50_000) {
    return `${(bytesPerSecond / 1e3).toFixed(1)} kB/s`;
  }
  return `${(bytesPerSecond / 1e6).toFixed(1)} MB/s`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--:--";
  const whole = Math.max(0, Math.round(seconds));
  const minutes = Math.floor(whole / 60);
  const hours = Math.floor(minutes / 60);
  const pad = (n: number) => String(n).padStart(2, "0");
  return hours > 0
    ? `${hours}:${pad(minutes % 60)}:${pad(whole % 60)}`
    : `${minutes}:${pad(whole % 60)}`;
}

/** "3 files, 1 folder (1.2 GiB)" */
export function describeOffer(files: number, directories: number, bytes: number): string {
  const parts = [`${files} ${files === 1 ? "file" : "files"}`];
  if (directories > 0) parts.push(`${directories} ${directories === 1 ? "folder" : "folders"}`);
  return `${parts.join(", ")} (${formatBytes(bytes)})`;
}
