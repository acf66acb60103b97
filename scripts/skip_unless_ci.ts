/**
 * How a test that needs something this machine may lack (the network lab's `ip netns` and `nft`,
 * `unshare`, Redis) is registered: skipped with the reason in its name, except under `CI=true` as
 * root. A CI machine is set up to have everything (.ci/run installs it), so there the test runs and
 * fails saying why, instead of passing as `ignored` without the scenarios it covers.
 */

/** `Deno.test`'s `ignore`, and what to append to the test's name. */
export interface SkipDecision {
  ignore: boolean;
  /** ` (skipped: why)` when ignored, else empty. */
  note: string;
}

/** Whether CI demands every test run: `CI=true` and root (who can install and use everything). */
export function ciDemandsAll(): boolean {
  return Deno.env.get("CI") === "true" && Deno.uid() === 0;
}

/** The decision for a test that cannot run here when `reason` is set. */
export function skipUnlessCi(reason: string | undefined): SkipDecision {
  const ignore = reason !== undefined && !ciDemandsAll();
  return { ignore, note: ignore ? ` (skipped: ${reason})` : "" };
}
