import { mainCpu } from "./cpu_end.ts";
await import("./cli/send_command.ts");
const what = Deno.args[0];
const a = mainCpu();
if (what !== "none") await import(what);
console.log((mainCpu() - a).toFixed(2));
