/**
 * DNS names (RFC 1035 §3.1, §4.1.4) in presentation form: labels joined by
 * ".", with "." and "\" inside a label escaped as "\." and "\\" (DNS-SD
 * instance names may hold dots, RFC 6763 §4.3). Labels are UTF-8.
 */
import { concatBytes, ProtocolError } from "../base/mod.ts";

/** Longest name on the wire, length bytes included (RFC 1035 §2.3.4). */
export const MAX_NAME_LENGTH = 255;
/** Longest label (RFC 1035 §2.3.4). */
export const MAX_LABEL_LENGTH = 63;

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Splits presentation text into label strings, undoing the escapes. */
export function splitName(name: string): string[] {
  if (name === "") return [];
  const labels: string[] = [];
  let label = "";
  for (let i = 0; i < name.length; i++) {
    const char = name[i];
    if (char === "\\" && i + 1 < name.length) {
      label += name[++i];
    } else if (char === ".") {
      labels.push(label);
      label = "";
    } else {
      label += char;
    }
  }
  labels.push(label);
  return labels;
}

function escapeLabel(label: string): string {
  return label.replace(/[.\\]/g, (char) => `\\${char}`);
}

/** Wire bytes of a name, uncompressed: each label with its length, then a zero byte. */
export function encodeName(name: string): Uint8Array {
  const parts: Uint8Array[] = [];
  let length = 1;
  for (const label of splitName(name)) {
    const bytes = utf8.encode(label);
    if (bytes.length === 0 || bytes.length > MAX_LABEL_LENGTH) {
      throw new RangeError(
        `Cannot encode DNS name ${JSON.stringify(name)}: label ${
          JSON.stringify(label)
        } is ${bytes.length} bytes, not 1 to ${MAX_LABEL_LENGTH}`,
      );
    }
    parts.push(Uint8Array.of(bytes.length), bytes);
    length += 1 + bytes.length;
  }
  if (length > MAX_NAME_LENGTH) {
    throw new RangeError(
      `Cannot encode DNS name ${JSON.stringify(name)}: ${length} bytes exceed ${MAX_NAME_LENGTH}`,
    );
  }
  return concatBytes([...parts, [0]]);
}

/**
 * Reads a possibly compressed name at `offset` of `message`. Pointers must
 * point strictly before the label that holds them, so a chain of them always
 * ends; the expanded name must stay within {@link MAX_NAME_LENGTH}.
 * Returns the name and the offset just past it where it started.
 */
export function decodeName(message: Uint8Array, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let length = 1;
  let cursor = offset;
  let end: number | undefined;
  let floor = offset;
  for (;;) {
    if (cursor >= message.length) {
      throw new ProtocolError(`Cannot decode DNS name at byte ${offset}: it runs past the end`);
    }
    const head = message[cursor];
    if (head === 0) {
      end ??= cursor + 1;
      break;
    }
    const kind = head & 0xc0;
    if (kind === 0xc0) {
      if (cursor + 1 >= message.length) {
        throw new ProtocolError(`Cannot decode DNS name at byte ${offset}: truncated pointer`);
      }
      const target = ((head & 0x3f) << 8) | message[cursor + 1];
      if (target >= floor) {
        throw new ProtocolError(
          `Cannot decode DNS name at byte ${offset}: pointer to byte ${target} does not point back before byte ${floor}`,
        );
      }
      end ??= cursor + 2;
      cursor = target;
      floor = target;
      continue;
    }
    if (kind !== 0) {
      throw new ProtocolError(
        `Cannot decode DNS name at byte ${offset}: label type 0x${head.toString(16)} is unknown`,
      );
    }
    length += 1 + head;
    if (length > MAX_NAME_LENGTH) {
      throw new ProtocolError(
        `Cannot decode DNS name at byte ${offset}: longer than ${MAX_NAME_LENGTH} bytes`,
      );
    }
    if (cursor + 1 + head > message.length) {
      throw new ProtocolError(
        `Cannot decode DNS name at byte ${offset}: a label runs past the end`,
      );
    }
    let label: string;
    try {
      label = strictUtf8.decode(message.subarray(cursor + 1, cursor + 1 + head));
    } catch (error) {
      throw new ProtocolError(`Cannot decode DNS name at byte ${offset}: a label is not UTF-8`, {
        cause: error,
      });
    }
    labels.push(escapeLabel(label));
    cursor += 1 + head;
  }
  return { name: labels.join("."), end };
}

/** Case-insensitive comparison of names, as DNS compares them (ASCII letters only). */
export function sameName(a: string, b: string): boolean {
  return a.length === b.length && a.replace(/[A-Z]/g, (c) => c.toLowerCase()) ===
      b.replace(/[A-Z]/g, (c) => c.toLowerCase());
}
