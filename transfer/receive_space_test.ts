import assert from "node:assert/strict";
import type { ManifestEntry } from "./wire/mod.ts";
import { sinkPlan } from "./_receive_plan.ts";
import { bytesToWrite } from "./_receive_space.ts";

function file(path: string, size: number, more: Partial<ManifestEntry> = {}): ManifestEntry {
  return { kind: "file", path, size, mode: 0o644, mtimeMs: null, ...more };
}

Deno.test("bytesToWrite counts whole blocks past what partials hold, and only what may be written", () => {
  const entries: ManifestEntry[] = [
    { kind: "directory", path: "d", size: 0, mode: 0o755, mtimeMs: null },
    file("d/new", 5000), // 2 blocks of 4096
    file("d/resumed", 10_000), // 3 blocks, 1 held by its 4000-byte partial
    file("d/same", 9000), // an existing file of the offered size: may be identical
    file("d/unholdable", 8192),
    file("d/kept", 8192),
    file("d/stream", 0, { unknownSize: true }),
  ];
  const plan = sinkPlan(new Map([[4, "reserved name"]]), entries.length);
  plan.kept.set(5, "a different entry with this name exists here and is kept");
  plan.toHash.push(
    { index: 2, kind: "partial", path: "p", length: 4000, size: 10_000 },
    { index: 3, kind: "exists", path: "e", length: 9000, size: 9000 },
  );
  assert.equal(bytesToWrite(entries, plan, 4096), 2 * 4096 + 2 * 4096);
});
