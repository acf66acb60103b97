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
 * Over the 12 MiB cap. The receiver keeps only whole 1 MiB segments, in order, of the 4 streams
 * the TLS link uses, and the cap counts every stream's bytes: a run keeps about the cap less one
 * segment a stream (a cap of 4 MiB or less keeps nothing at all; SCALING.md says so).
 */
const SIZE = 20 * 1024 * 1024 + 17;
const MAX_RUNS = 5;
const CAPPED =
  /^error: The relay on 127\.0\.0\.1:\d+ allows 12 MiB per transfer \(its operator's cap\): run send again to resume$/;

boundedTest(
  "a transfer ended by serve --relay-max-bytes says so on both sides, then resumes",
  async (signal) => {
    await using w = await world(signal, { serve: ["--relay-max-bytes", "12MiB"] });
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
      assert.ok(size > kept || run === 1, `run ${run}: partial of ${size} bytes, was ${kept}`);
      assert.ok(run < MAX_RUNS, `still capped after ${run} runs`);
      kept = size;
    }
    assert.equal(await sha256File(`${w.dir}/in/data.bin`), await sha256File(source));
  },
  { timeoutMs: 120_000 },
);
