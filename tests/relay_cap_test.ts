/**
 * An operator's relay cap through the real CLI (issue 24): a transfer that
 * `serve --relay-max-bytes` ends says so on both sides and keeps its
 * partial, and the next `send` resumes it. (A file over 8 GiB through a
 * default serve, which caps nothing, is checked by hand: docs/SCALING.md.)
 */
import assert from "node:assert/strict";
import { makeRandomFile, sha256File } from "../scripts/files.ts";
import { boundedTest } from "./bounded.ts";
import { assertSucceeded, world } from "./world.ts";

/**
 * A cap smaller than one 1 MiB segment on each of the TLS link's 4 streams: the cap counts every
 * stream's bytes, so no segment arrives whole, and a run keeps what came in order (about a quarter
 * of the cap: the first segment's part). Keeping only whole segments, no run made progress.
 */
const SIZE = 4 * 1024 * 1024 + 17;
const MAX_RUNS = 12;
const CAPPED =
  /^error: The relay on 127\.0\.0\.1:\d+ allows 3 MiB per transfer \(its operator's cap\): run send again to resume$/;

boundedTest(
  "a transfer ended by serve --relay-max-bytes says so on both sides, then resumes",
  async (signal) => {
    await using w = await world(signal, { serve: ["--relay-max-bytes", "3MiB"] });
    const source = `${w.dir}/data.bin`;
    await makeRandomFile(source, SIZE);
    await Deno.mkdir(`${w.dir}/in`);
    const partial = `${w.dir}/in/data.bin.p2pft-partial`;
    const both = ["--relay-only", "--transport", "tcp"];
    let kept = -1;
    for (let run = 1;; run++) {
      const { sent, received } = await w.transfer([source], { both, signal });
      if (run > 1 && sent.code === 0) {
        assertSucceeded(sent, received);
        break;
      }
      for (const side of [sent, received]) {
        assert.equal(side.code, 1, side.stderr);
        assert.match(side.stderr.trim(), CAPPED);
      }
      // Each capped run keeps what it got, and the next one starts from there.
      const size = (await Deno.stat(partial)).size;
      assert.ok(size > kept, `run ${run}: partial of ${size} bytes, was ${kept}`);
      assert.ok(run < MAX_RUNS, `still capped after ${run} runs`);
      kept = size;
    }
    assert.equal(await sha256File(`${w.dir}/in/data.bin`), await sha256File(source));
  },
  { timeoutMs: 120_000 },
);
