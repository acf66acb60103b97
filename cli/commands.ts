/** Every p2pft command, in the order help lists them. */
import type { CommandSpec } from "./options.ts";
import { RECEIVE, SEND } from "./peer_commands.ts";
import { COMPLETIONS, DOCTOR, HELP, SERVE } from "./tool_commands.ts";

export const COMMANDS: readonly CommandSpec[] = [SEND, RECEIVE, SERVE, DOCTOR, COMPLETIONS, HELP];
