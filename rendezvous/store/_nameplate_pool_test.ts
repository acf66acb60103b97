import { NameplatePool } from "./_nameplate_pool.ts";
import { assertEquals } from "../testing/mod.ts";

Deno.test("NameplatePool hands out the lowest free number, skipping taken ones", () => {
  const taken = new Set<number>();
  const pool = new NameplatePool(10, (n) => taken.has(n));
  const take = () => {
    const n = pool.allocate();
    if (n !== undefined) taken.add(n);
    return n;
  };
  assertEquals([take(), take(), take()], [1, 2, 3]);
  taken.add(4); // taken by a custom code
  assertEquals(take(), 5);
  for (const n of [3, 1]) {
    taken.delete(n);
    pool.release(n);
  }
  assertEquals([take(), take(), take()], [1, 3, 6]);
  taken.delete(4);
  pool.release(4); // a custom code above the watermark needs no bookkeeping
  assertEquals(take(), 4);
  assertEquals([take(), take(), take(), take(), take()], [7, 8, 9, 10, undefined]);
});

Deno.test("NameplatePool agrees with a linear scan over a random workload", () => {
  const taken = new Set<number>();
  const pool = new NameplatePool(500, (n) => taken.has(n));
  let seed = 7;
  const rand = (limit: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % limit;
  for (let step = 0; step < 20_000; step++) {
    const action = rand(3);
    if (action === 0) {
      let expected: number | undefined;
      for (let n = 1; n <= 500; n++) {
        if (!taken.has(n)) {
          expected = n;
          break;
        }
      }
      const got = pool.allocate();
      assertEquals(got, expected, `step ${step}`);
      if (got !== undefined) taken.add(got);
    } else if (action === 1) {
      const n = 1 + rand(500); // a custom code
      if (!taken.has(n)) taken.add(n);
    } else if (taken.size > 0) {
      const all = [...taken];
      const n = all[rand(all.length)];
      taken.delete(n);
      pool.release(n);
    }
  }
});
