import assert from "node:assert/strict";
import {
  describeOffer,
  formatBytes,
  formatBytesAtLeast,
  formatDuration,
  formatRate,
} from "./format.ts";

Deno.test("formatBytes keeps bytes whole and scales larger sizes by 1024 with one decimal", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1023), "1023 B");
  assert.equal(formatBytes(1024), "1.0 KiB");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(64 * 1024 * 1024), "64.0 MiB");
  assert.equal(formatBytes(1.2 * 1024 ** 3), "1.2 GiB");
  assert.equal(formatBytes(3 * 1024 ** 5), "3072.0 TiB");
});

Deno.test("formatBytesAtLeast never shows less than the amount", () => {
  assert.equal(formatBytesAtLeast(26.74 * 1024 * 1024), "26.8 MiB");
  assert.equal(formatBytesAtLeast(26.7 * 1024 * 1024), "26.7 MiB");
  assert.equal(formatBytesAtLeast(1025), "1.1 KiB");
  assert.equal(formatBytesAtLeast(1000), "1000 B");
});

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
