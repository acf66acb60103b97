import { assertEquals } from "../testing/mod.ts";
import { Deadlines } from "./_deadlines.ts";

Deno.test("Deadlines gives items back earliest first, ties in any order", () => {
  const deadlines = new Deadlines<string>();
  const dues = [50, 10, 40, 10, 30, 20, 60, 0, 35];
  for (const [i, due] of dues.entries()) deadlines.add(due, `${due}:${i}`);
  assertEquals(deadlines.size, dues.length);
  const out: number[] = [];
  while (deadlines.next !== Infinity) out.push(Number(deadlines.take()!.split(":")[0]));
  assertEquals(out, [...dues].sort((a, b) => a - b));
  assertEquals(deadlines.take(), undefined);
});

Deno.test("Deadlines keeps its order across adds between takes", () => {
  const deadlines = new Deadlines<number>();
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 1000;
  const held: number[] = [];
  for (let round = 0; round < 200; round++) {
    for (let i = 0; i < 3; i++) {
      const due = random();
      deadlines.add(due, due);
      held.push(due);
    }
    held.sort((a, b) => a - b);
    assertEquals(deadlines.next, held[0]);
    assertEquals(deadlines.take(), held.shift());
  }
  deadlines.clear();
  assertEquals(deadlines.size, 0);
});
