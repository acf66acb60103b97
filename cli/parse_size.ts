/** Sizes and rates as an operator types them: `8GiB`, `500M`, `1.5 MiB`, `100` (MB/s). */
import { UsageError } from "../base/mod.ts";

const UNITS: Record<string, number> = {
  "": 1,
  B: 1,
  K: 1e3,
  KB: 1e3,
  KIB: 2 ** 10,
  M: 1e6,
  MB: 1e6,
  MIB: 2 ** 20,
  G: 1e9,
  GB: 1e9,
  GIB: 2 ** 30,
  T: 1e12,
  TB: 1e12,
  TIB: 2 ** 40,
};

/**
 * A byte count: a number and an optional unit (K/M/G/T powers of 1000, KiB/MiB/GiB/TiB
 * powers of 1024, case-insensitive). @throws {UsageError} naming `flag`.
 */
export function parseSize(text: string, flag: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = match ? UNITS[match[2].toUpperCase()] : undefined;
  const bytes = unit === undefined ? NaN : Math.floor(Number(match![1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new UsageError(
      `${flag} must be a size such as 8GiB, 500MB or 1048576 (bytes), got "${text}"`,
    );
  }
  return bytes;
}

/** Megabytes (10^6 bytes) a second, a positive number. @throws {UsageError} naming `flag`. */
export function parseRate(text: string, flag: string): number {
  const value = /^[0-9]+(\.[0-9]+)?$/.test(text) ? Number(text) : NaN;
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new UsageError(
      `${flag} must be a number of MB/s above 0, such as 100 or 12.5, got "${text}"`,
    );
  }
  return value * 1e6;
}
