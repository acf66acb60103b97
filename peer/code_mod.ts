/**
 * Transfer codes (parsing, checking and drawing words), apart from `mod.ts`, so that `send` can
 * check its `--code` and show its offer before loading the rest of peer/ (the punching, TLS,
 * QUIC and PAKE code, about a hundred modules).
 * @module
 */
export {
  assertKnownWords,
  formatCode,
  generateWords,
  parseCode,
  type TransferCode,
} from "./code.ts";
