/**
 * The first SPAKE2 exchange in a process compiles the curve code and builds
 * its tables (about 70 ms of CPU per side here, 140 ms under load), which
 * otherwise lands between `paired` and `connected`. One throwaway exchange
 * while this side waits anyway (the sender for its receiver, the receiver for
 * the rendezvous server's answer) moves it out of the way.
 */
import { Spake2 } from "../pake/mod.ts";

export function warmUpPake(): void {
  const options = { identityA: new Uint8Array([1]), identityB: new Uint8Array([2]) };
  const password = crypto.getRandomValues(new Uint8Array(8));
  const a = Spake2.start("A", password, options);
  const b = Spake2.start("B", password, options);
  a.finish(b.message);
  b.finish(a.message);
}
