/** A network namespace with loopback only (up), for a host with no network; deleted on dispose. */
import { mustRun, runCommand } from "./_run.ts";
import { LAB_PREFIX, newLabId } from "./_plan.ts";

export interface BareNamespace extends AsyncDisposable {
  ns: string;
}

/** Named like the lab's namespaces, so `cleanupLabs` removes one a killed run left. */
export async function createBareNamespace(): Promise<BareNamespace> {
  const ns = `${LAB_PREFIX}${newLabId()}-bare`;
  await mustRun("ip", ["netns", "add", ns]);
  const remove = async () => void await runCommand("ip", ["netns", "del", ns]);
  try {
    await mustRun("ip", ["-n", ns, "link", "set", "lo", "up"]);
  } catch (error) {
    await remove();
    throw error;
  }
  return { ns, [Symbol.asyncDispose]: remove };
}
