import {
  DeclinedError,
  IncompleteTransferError,
  P2pftError,
  systemErrorLine,
  UsageError,
} from "../base/mod.ts";

export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;
/** The transfer finished but not everything arrived: entries were skipped (listed in `done`). */
export const EXIT_INCOMPLETE = 3;

/** What `main.ts` prints and returns for an error that ended a command. */
export interface Failure {
  /** The one line after `error: `. */
  message: string;
  /**
   * This side's user declined the offer: not an error here, so the line reads "Declined."
   * without "error:" (the exit stays 1: nothing was received, which scripts must see).
   */
  declined?: true;
  exitCode: number;
  /** Stack and cause chain, for `--verbose`. */
  details: string[];
}

/**
 * Only argument problems are usage errors (exit 2). Errors p2pft raises on
 * purpose and the system's own (`Deno.errors.*`: a missing file, a refused
 * permission) keep their message (exit 1); anything else is a bug or an
 * unforeseen state and says so.
 */
export function describeFailure(error: unknown): Failure {
  const system = Object.values(Deno.errors).some((kind) => error instanceof kind);
  const text = error instanceof Error ? error.message : String(error);
  const message = system ? systemErrorLine(text) : text;
  const expected = error instanceof P2pftError || system;
  const details: string[] = [];
  for (let cause = error; cause !== undefined; cause = (cause as Error).cause) {
    details.push(cause instanceof Error ? cause.stack ?? String(cause) : String(cause));
    if (!(cause instanceof Error)) break;
  }
  return {
    message: expected ? message : `unexpected failure: ${message}`,
    ...(error instanceof DeclinedError ? { declined: true as const } : {}),
    exitCode: error instanceof UsageError
      ? EXIT_USAGE
      : error instanceof IncompleteTransferError
      ? EXIT_INCOMPLETE
      : EXIT_ERROR,
    details,
  };
}

/** Runs `parse` on what the user typed; its TypeError/RangeError becomes a `UsageError`. */
export function parseArgument<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw asUsageError(error);
  }
}

/**
 * A TypeError/RangeError raised while reading what the user typed (a code,
 * an address, the paths to send) is a usage error; anything else stays.
 */
export function asUsageError(error: unknown): unknown {
  if (error instanceof TypeError || error instanceof RangeError) {
    return new UsageError(error.message, { cause: error });
  }
  return error;
}
