import { wordlist } from "@scure/bip39/wordlists/english.js";
import { nearest } from "../base/mod.ts";
import { isNameplate } from "../rendezvous/wire/checks_mod.ts";

/** A transfer code: the nameplate (a room on the rendezvous server) and the secret words. */
export interface TransferCode {
  /** Decimal room number; the only part the rendezvous server ever sees. */
  nameplate: string;
  /** The secret words joined by "-": the PAKE password, never sent anywhere. */
  words: string;
}

/** Fewest secret words a code may have. */
export const MIN_CODE_WORDS = 2;
/** Number of words drawn for a generated code (2048² = 4,194,304 possibilities). */
export const DEFAULT_CODE_WORDS = 2;

const WORD_PATTERN = /^[a-z]{2,32}$/;

/** Draws `count` words from the 2048-word BIP-39 English list with a CSPRNG. */
export function generateWords(count: number = DEFAULT_CODE_WORDS): string {
  if (!Number.isInteger(count) || count < MIN_CODE_WORDS || count > 16) {
    throw new RangeError(`Cannot generate a code with ${count} words: use 2 to 16`);
  }
  const indices = crypto.getRandomValues(new Uint16Array(count));
  // 2048 divides 65536, so masking keeps every word equally likely.
  return Array.from(indices, (index) => wordlist[index & 2047]).join("-");
}

/** Joins a nameplate and words into the text a user reads aloud. */
export function formatCode(code: TransferCode): string {
  return `${code.nameplate}-${code.words}`;
}

/**
 * Parses `7-lunar-crystal` (case and surrounding spaces are ignored;
 * spaces may stand for dashes). Throws a TypeError that says what is wrong.
 */
export function parseCode(text: string): TransferCode {
  const parts = text.trim().toLowerCase().split(/[\s-]+/).filter((part) => part !== "");
  const [typed, ...words] = parts;
  // "07-lunar-crystal" is nameplate 7, as a person reads it (the wire's number has no zeros).
  const nameplate = typed?.replace(/^0+(?=[0-9])/, "");
  if (nameplate === undefined || !isNameplate(nameplate)) {
    throw new TypeError(
      `Invalid code "${text}": it must start with a number from 1 to 99999, like 7-lunar-crystal`,
    );
  }
  if (words.length < MIN_CODE_WORDS) {
    throw new TypeError(
      `Invalid code "${text}": it needs at least ${MIN_CODE_WORDS} words after the number, like 7-lunar-crystal`,
    );
  }
  const badWord = words.find((word) => !WORD_PATTERN.test(word));
  if (badWord !== undefined) {
    throw new TypeError(
      `Invalid code "${text}": "${badWord}" is not a word of 2 to 32 letters a-z`,
    );
  }
  return { nameplate, words: words.join("-") };
}

/** The words a code's secret part is drawn from (for shell completion). */
export function codeWords(): readonly string[] {
  return wordlist;
}

/**
 * Throws a TypeError naming the first word of `code` that is not in the word
 * list, with the nearest list word as a suggestion, so a typo is caught
 * before the one-time nameplate is used.
 */
export function assertKnownWords(code: TransferCode): void {
  // A scan of the list per word: a code has a few words, and a Set of the list, made when this
  // module loads, was a cost before every command's first event.
  const unknown = code.words.split("-").find((word) => !wordlist.includes(word));
  if (unknown === undefined) return;
  throw new TypeError(
    `Invalid code "${formatCode(code)}": "${unknown}" is not in the word list; did you mean "${
      nearestWord(unknown)
    }"?`,
  );
}

/** The list word with the smallest edit distance to `word` (the first one on a tie). */
export function nearestWord(word: string): string {
  return nearest(word, wordlist)!;
}
