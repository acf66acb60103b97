/** Flag values turned into what the commands take; a bad one is a one-line `UsageError`. */
import { UsageError } from "../base/mod.ts";
import type { RelayMode, TransportChoice } from "../peer/mod.ts";
import type { CommandInput } from "./options.ts";

const DEFAULT_STALL_TIMEOUT_SECONDS = 30;

/** A whole number from `min` to `max` in decimal digits, or `fallback` when not given. */
export function integerFlag(
  input: CommandInput,
  name: string,
  range: { fallback: number; min: number; max: number },
): number {
  const text = input.string(name);
  if (text === undefined) return range.fallback;
  // Decimal digits only: Number() would also take "0x10", "1e3" and " 7 ".
  const value = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    throw new UsageError(
      `--${name} must be a whole number from ${range.min} to ${range.max}, got "${text}"`,
    );
  }
  return value;
}

/** `--stall-timeout`: send and receive fail when no byte moved for this long. */
export function stallTimeout(input: CommandInput): number {
  return integerFlag(input, "stall-timeout", {
    fallback: DEFAULT_STALL_TIMEOUT_SECONDS,
    min: 1,
    max: 86400,
  });
}

/** `--no-relay` / `--relay-only` (not both). */
export function relayMode(input: CommandInput): RelayMode {
  const never = input.flag("no-relay");
  const only = input.flag("relay-only");
  if (never && only) throw new UsageError("--no-relay and --relay-only contradict each other");
  return only ? "only" : never ? "never" : "auto";
}

/** `--transport` (checked against its choices by the parser; combinations: peerFinding). */
export function transportChoice(input: CommandInput): TransportChoice {
  return (input.string("transport") ?? "auto") as TransportChoice;
}
