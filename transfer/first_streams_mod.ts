/**
 * How many streams a sender opens first for its offer, apart from the sending half
 * (`send_mod.ts`): a sender needs the count before it registers with the rendezvous server (its
 * LAN listener is sized by it), and loads the sending half (~25 modules) only once it waits for its
 * receiver.
 * @module
 */
/** Bytes per DATA segment, at most (`segmentSizeFor`); also the unit data streams are counted in. */
export const SEGMENT_SIZE = 1024 * 1024;
/**
 * The most data a transfer sends on its control stream, after START, when the receiver takes it
 * there (version 5): one segment, so a small file costs no data stream (over the TLS link a
 * connection and its handshake on each side).
 */
export const INLINE_MAX_BYTES = SEGMENT_SIZE;
/**
 * The streams a sender opens for an offer of `bytes`, before the decisions (which may send less):
 * its control stream, and one data stream per segment up to `dataStreams`. A text has none, and
 * nor has a small offer, whose data a receiver of version 5 takes on the control stream (a later
 * stream is announced with OPEN: the data stream of a small offer to a receiver of version 4).
 */
export function streamsToOpen(
  offer: { bytes: number; text: boolean },
  dataStreams: number,
): number {
  if (offer.text || offer.bytes <= INLINE_MAX_BYTES) return 1;
  return 1 + Math.min(dataStreams, Math.ceil(offer.bytes / SEGMENT_SIZE));
}
