import assert from "node:assert/strict";
import { IncompleteTransferError, IntegrityError, UsageError } from "../base/mod.ts";
import {
  asUsageError,
  describeFailure,
  EXIT_ERROR,
  EXIT_INCOMPLETE,
  EXIT_USAGE,
  parseArgument,
} from "./exit_code.ts";

Deno.test("describeFailure gives a UsageError exit 2 and its own message", () => {
  const failure = describeFailure(new UsageError("--port must be a whole number"));
  assert.equal(failure.exitCode, EXIT_USAGE);
  assert.equal(failure.message, "--port must be a whole number");
});

Deno.test("describeFailure calls a plain TypeError an unexpected failure with exit 1", () => {
  const failure = describeFailure(new TypeError("Cannot read properties of undefined"));
  assert.equal(failure.exitCode, EXIT_ERROR);
  assert.equal(failure.message, "unexpected failure: Cannot read properties of undefined");
});

Deno.test("describeFailure keeps the message of p2pft and system errors with exit 1", () => {
  for (const error of [new IntegrityError("hash differs"), new Deno.errors.NotFound("no file")]) {
    const failure = describeFailure(error);
    assert.equal(failure.exitCode, EXIT_ERROR);
    assert.equal(failure.message, error.message);
  }
  assert.equal(describeFailure("thrown string").message, "unexpected failure: thrown string");
});

Deno.test("describeFailure words a system error as what failed on which path, and why", () => {
  const denied = new Deno.errors.PermissionDenied(
    "Permission denied (os error 13): open '/in/d/x.txt.p2pft-partial'",
  );
  assert.equal(
    describeFailure(denied).message,
    "Cannot open /in/d/x.txt.p2pft-partial: Permission denied",
  );
  const moved = new Deno.errors.NotFound(
    "No such file or directory (os error 2): rename '/in/a.p2pft-partial' -> '/in/a'",
  );
  assert.equal(
    describeFailure(moved).message,
    "Cannot rename /in/a.p2pft-partial to /in/a: No such file or directory",
  );
});

Deno.test("describeFailure lists the cause chain for --verbose", () => {
  const root = new Error("socket reset");
  const failure = describeFailure(new IntegrityError("hash differs", { cause: root }));
  assert.equal(failure.details.length, 2);
  assert.match(failure.details[1], /socket reset/);
});

Deno.test("parseArgument turns a parser's TypeError into a UsageError and passes others", () => {
  assert.throws(
    () =>
      parseArgument(() => {
        throw new TypeError("Invalid code");
      }),
    (error) => error instanceof UsageError && error.message === "Invalid code",
  );
  const bug = new Error("other");
  assert.throws(() =>
    parseArgument(() => {
      throw bug;
    }), (error) => error === bug);
  assert.equal(parseArgument(() => 7), 7);
});

Deno.test("asUsageError turns a RangeError from reading the user's input into a UsageError", () => {
  const error = asUsageError(new RangeError("Cannot send /dev/null: not a regular file"));
  assert.ok(error instanceof UsageError);
  assert.equal(describeFailure(error).exitCode, EXIT_USAGE);
  const other = new IntegrityError("x");
  assert.equal(asUsageError(other), other);
});

Deno.test("describeFailure gives a transfer that did not bring everything exit 3", () => {
  const failure = describeFailure(new IncompleteTransferError("Not everything arrived"));
  assert.equal(failure.exitCode, EXIT_INCOMPLETE);
  assert.equal(failure.message, "Not everything arrived");
});
