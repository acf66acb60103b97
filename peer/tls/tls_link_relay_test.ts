import assert from "node:assert/strict";
import { randomBytes, withTimeout } from "../../transfer/_test_util.ts";
import { createPeerCertificate } from "../cert/mod.ts";
import { pump, spliceServer } from "./_test_util.ts";
import { type RelayDial, relayTlsReceiver, relayTlsSender } from "./tls_link.ts";

/** `dial`, noting each channel it dials in `channels`. */
function noting(dial: RelayDial, channels: number[]): RelayDial {
  return (channel, signal, connect) => {
    channels.push(channel);
    return dial(channel, signal, connect);
  };
}

/** Opens `count` streams on `from`, accepts them on `to`, and checks bytes cross each intact. */
async function carry(
  from: Awaited<ReturnType<typeof relayTlsSender>>,
  to: Awaited<ReturnType<typeof relayTlsSender>>,
  count: number,
): Promise<void> {
  for (let index = 0; index < count; index++) {
    const [a, b] = await Promise.all([from.openStream(), to.acceptStream()]);
    const { sent, received } = await pump(a, b, randomBytes(100_000, index));
    assert.equal(received, sent);
  }
}

for (const firstStreams of [3, 0]) {
  const what = firstStreams > 0
    ? "the PAKE's stream and the sender's first 3 are made with the link, the 4th after its OPEN"
    : "with a sender that announces every stream (as older ones do), each is made after its OPEN";
  Deno.test(`TLS link through a relay: ${what}; each channel is dialled once per side`, async () => {
    await withTimeout(20_000, async (signal) => {
      await using relay = spliceServer();
      const certificate = await createPeerCertificate();
      const bySender: number[] = [];
      const byReceiver: number[] = [];
      const [sender, receiver] = await Promise.all([
        relayTlsSender(noting(relay.dial("room"), bySender), { certificate, firstStreams, signal }),
        relayTlsReceiver(noting(relay.dial("room"), byReceiver), {
          peerFingerprint: certificate.fingerprint,
          signal,
        }),
      ]);
      try {
        // Made before the link was up: the PAKE's stream (channel 2), and the first streams.
        const ahead = firstStreams > 0 ? [0, 1, 2, 3, 5] : [0, 2];
        assert.deepEqual([...bySender].sort((a, b) => a - b), ahead);
        await carry(receiver, sender, 1);
        await carry(sender, receiver, 4);
        const all = [0, 1, 2, 3, 5, 7];
        assert.deepEqual([...bySender].sort((a, b) => a - b), all);
        assert.deepEqual([...byReceiver].sort((a, b) => a - b), all);
      } finally {
        await sender.close({ failed: false, message: "done" });
        assert.deepEqual(await receiver.closed, { failed: false, message: "done" });
      }
    });
  });
}
