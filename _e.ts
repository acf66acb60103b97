import { mainCpu } from "./cpu_end.ts";
const a = mainCpu();
for (const what of Deno.args) await import(what);
console.log((mainCpu() - a).toFixed(2));
