/**
 * What a command checks against the rendezvous wire before it contacts anyone (a code's nameplate,
 * a server's address and default port), apart from `mod.ts`: `send` shows its offer before it
 * loads the messages, their codecs, cookies and framing (nine modules, which follow with the link).
 * @module
 */
export { isEncodableAddr } from "./_addr.ts";
export { DEFAULT_RENDEZVOUS_PORT, isNameplate } from "./_fields.ts";
