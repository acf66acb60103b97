/** Nameplates for codes made without a rendezvous server. */

/** Smallest and largest nameplate {@link localNameplate} draws. */
export const LOCAL_NAMEPLATE_MIN = 100;
export const LOCAL_NAMEPLATE_MAX = 9999;

/**
 * A nameplate for a code announced only on the LAN, drawn uniformly from
 * 100..9999 with a CSPRNG: no server hands out free numbers there, so a wide
 * range keeps two senders on one network from colliding (1 in 9900 a pair).
 */
export function localNameplate(): string {
  const span = LOCAL_NAMEPLATE_MAX - LOCAL_NAMEPLATE_MIN + 1;
  // Rejection sampling: the largest multiple of span below 2^32 keeps every number equally likely.
  const limit = Math.floor(0x1_0000_0000 / span) * span;
  for (;;) {
    const [value] = crypto.getRandomValues(new Uint32Array(1));
    if (value < limit) return String(LOCAL_NAMEPLATE_MIN + (value % span));
  }
}
