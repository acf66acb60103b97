/** Receiver: a free name beside an existing one, as browsers pick it: `name (1).ext`. */
import { join } from "../base/path.ts";
import { NAME_MAX } from "./_path_safety.ts";

const utf8 = new TextEncoder();

/** `stem (n).ext` within NAME_MAX bytes (the stem is cut, never the number or the extension). */
export function numberedName(name: string, n: number): string {
  const dot = name.lastIndexOf(".");
  // A leading dot is part of the name (".bashrc (1)"), not an extension.
  let stem = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot) : "";
  const suffix = ` (${n})${ext}`;
  while (utf8.encode(stem + suffix).length > NAME_MAX && stem.length > 1) {
    stem = Array.from(stem).slice(0, -1).join("");
  }
  return stem + suffix;
}

/**
 * The first `name (n).ext` in `directory` that nothing occupies on disk and
 * `taken` does not claim (another entry of the same offer).
 */
export async function freeName(
  directory: string,
  name: string,
  taken: (candidate: string) => boolean,
): Promise<string> {
  for (let n = 1;; n++) {
    const candidate = numberedName(name, n);
    if (taken(candidate)) continue;
    try {
      await Deno.lstat(join(directory, candidate));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return candidate;
      throw error;
    }
  }
}
