import assert from "node:assert/strict";
import { describeOffer, formatDuration, formatRate } from "./format.ts";

Deno.test("formatRate shows decimal megabytes per second", () => {
  assert.equal(formatRate(0), "0.0 MB/s");
  assert.equal(formatRate(12_345_678), "12.3 MB/s");
  assert.equal(formatRate(1_024), "1.0 kB/s");
  assert.equal(formatRate(40), "40 B/s");
  assert.equal(formatRate(0.4), "0 B/s");
  assert.equal(formatRate(50_000), "0.1 MB/s");
});

Deno.test("formatDuration shows m:ss, h:mm:ss past an hour, and --:-- when unknown", () => {
  assert.equal(formatDuration(0), "0:00");
  assert.equal(formatDuration(59.6), "1:00");
  assert.equal(formatDuration(61), "1:01");
  assert.equal(formatDuration(3_600), "1:00:00");
  assert.equal(formatDuration(3_725), "1:02:05");
  assert.equal(formatDuration(-5), "0:00");
  assert.equal(formatDuration(Infinity), "--:--");
  assert.equal(formatDuration(NaN), "--:--");
});

Deno.test("describeOffer counts files and folders in singular or plural with the size", () => {
  assert.equal(describeOffer(1, 0, 5), "1 file (5 B)");
  assert.equal(describeOffer(3, 1, 1.2 * 1024 ** 3), "3 files, 1 folder (1.2 GiB)");
  assert.equal(describeOffer(0, 2, 0), "0 files, 2 folders (0 B)");
});
