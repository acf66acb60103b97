import { createHash } from "node:crypto";
import { ClientIdChain } from "./client_ids.ts";
import { assert, assertEquals } from "../testing/mod.ts";

Deno.test("ClientIdChain commits each registration to the SHA-256 of the next one's client id", () => {
  const ids = new ClientIdChain();
  const seen: Uint8Array[] = [];
  for (let i = 0; i < 3; i++) {
    const successor = ids.successor;
    seen.push(ids.clientId);
    assertEquals(ids.clientId.length, 16);
    ids.advance();
    assertEquals(successor, new Uint8Array(createHash("sha256").update(ids.clientId).digest()));
  }
  assert(new Set(seen.map((id) => id.join())).size === 3, "every registration has a fresh id");
});
