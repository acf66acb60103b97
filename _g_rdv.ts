import { mainCpu } from "./cpu_end.ts";
await import("./cli/send_command.ts");
await import("./rendezvous/mod.ts");
console.log(mainCpu().toFixed(1));
