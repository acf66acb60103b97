import assert from "node:assert/strict";
import { ByteReader, CodeMismatchError, ConnectionLostError, ProtocolError } from "../base/mod.ts";
import { encodeFrame, FrameType } from "./_frame.ts";
import {
  bounded,
  bytePair,
  type Duplex,
  fragmentingPair,
  readAll,
  transformPair,
} from "./_test_pipes.ts";
import {
  type PakeHandshakeOptions,
  receiverIdentity,
  runPakeHandshake,
  senderIdentity,
} from "./handshake.ts";
import { Spake2 } from "./spake2.ts";

const CODE = "lantern-crossword";
const NAMEPLATE = "7";
const BINDING = new Uint8Array(32).fill(0xab);
const text = new TextEncoder();

function options(
  role: PakeHandshakeOptions["role"],
  overrides: Partial<PakeHandshakeOptions> = {},
): PakeHandshakeOptions {
  return { role, code: CODE, nameplate: NAMEPLATE, channelBinding: BINDING, ...overrides };
}

/** Runs both sides to completion and returns each side's outcome. */
async function runBoth(
  [receiverEnd, senderEnd]: [Duplex, Duplex],
  receiver: Partial<PakeHandshakeOptions> = {},
  sender: Partial<PakeHandshakeOptions> = {},
) {
  return await bounded(Promise.allSettled([
    runPakeHandshake(receiverEnd, options("receiver", receiver)),
    runPakeHandshake(senderEnd, options(sender.role ?? "sender", sender)),
  ]));
}

function rejectionOf(outcome: PromiseSettledResult<unknown>): unknown {
  assert.equal(outcome.status, "rejected", "the handshake should have failed");
  return (outcome as PromiseRejectedResult).reason;
}

/**
 * A hand-written sender that follows the protocol but sends `trailing` in the
 * same write as its CONFIRM frame, as a peer that starts the transfer at once may.
 */
async function senderWithTrailingBytes(end: Duplex, trailing: Uint8Array): Promise<void> {
  const spake = await Spake2.start("B", text.encode(CODE), {
    identityA: receiverIdentity(NAMEPLATE),
    identityB: senderIdentity(NAMEPLATE),
    aad: BINDING,
  });
  const writer = end.writable.getWriter();
  const reader = new ByteReader(end.readable, { what: "PAKE stream" });
  const sentShare = writer.write(encodeFrame(FrameType.Share, spake.message));
  const peerShare = (await reader.readExact(4 + 65)).subarray(4);
  await sentShare;
  const keys = await spake.finish(peerShare);
  const confirm = encodeFrame(FrameType.Confirm, keys.ownConfirmation);
  const sentConfirm = writer.write(new Uint8Array([...confirm, ...trailing]));
  await reader.readExact(4 + 32);
  await sentConfirm;
  await writer.close();
  reader.release();
}

const PAIRS: Array<[string, () => [Duplex, Duplex]]> = [
  ["in-memory pipes", transformPair],
  ["byte streams", bytePair],
  ["one-byte chunks", fragmentingPair],
];

for (const [label, makePair] of PAIRS) {
  Deno.test(`runPakeHandshake gives both sides the same session key over ${label}`, async () => {
    const [receiver, sender] = await runBoth(makePair());
    assert.equal(receiver.status, "fulfilled");
    assert.equal(sender.status, "fulfilled");
    const keyA = (receiver as PromiseFulfilledResult<{ sessionKey: Uint8Array }>).value.sessionKey;
    const keyB = (sender as PromiseFulfilledResult<{ sessionKey: Uint8Array }>).value.sessionKey;
    assert.equal(keyA.length, 32);
    assert.deepEqual(keyA, keyB);
  });
}

Deno.test("runPakeHandshake gives different session keys in different runs", async () => {
  const first = await runBoth(transformPair());
  const second = await runBoth(transformPair());
  const key = (outcome: PromiseSettledResult<{ sessionKey: Uint8Array }>) =>
    (outcome as PromiseFulfilledResult<{ sessionKey: Uint8Array }>).value.sessionKey;
  assert.notDeepEqual(key(first[0]), key(second[0]));
});

Deno.test("runPakeHandshake leaves byte streams unlocked with nothing over-read", async () => {
  const [receiverEnd, senderEnd] = bytePair();
  const trailing = text.encode("first bytes of the transfer");
  const [result] = await bounded(Promise.all([
    runPakeHandshake(receiverEnd, options("receiver")),
    senderWithTrailingBytes(senderEnd, trailing),
  ]));
  assert.equal(result.readable, receiverEnd.readable);
  assert.equal(receiverEnd.readable.locked, false);
  assert.equal(receiverEnd.writable.locked, false);
  assert.deepEqual(await bounded(readAll(receiverEnd.readable)), trailing);
  await receiverEnd.writable.close();
});

Deno.test("runPakeHandshake hands over bytes that shared a chunk with CONFIRM", async () => {
  const [receiverEnd, senderEnd] = transformPair();
  const trailing = text.encode("first bytes of the transfer");
  const [result] = await bounded(Promise.all([
    runPakeHandshake(receiverEnd, options("receiver")),
    senderWithTrailingBytes(senderEnd, trailing),
  ]));
  assert.equal(receiverEnd.writable.locked, false);
  assert.deepEqual(await bounded(readAll(result.readable)), trailing);
  await receiverEnd.writable.close();
});

Deno.test("runPakeHandshake lets the stream carry data after the handshake", async () => {
  const [receiverEnd, senderEnd] = transformPair();
  await runBoth([receiverEnd, senderEnd]);
  const payload = text.encode("manifest");
  const writer = senderEnd.writable.getWriter();
  const [received] = await bounded(Promise.all([
    readAll(receiverEnd.readable),
    writer.write(payload).then(() => writer.close()),
  ]));
  assert.deepEqual(received, payload);
});

Deno.test("runPakeHandshake fails on BOTH sides with CodeMismatchError for a wrong code", async () => {
  const [receiver, sender] = await runBoth(transformPair(), { code: "lantern-crosswalk" });
  for (const outcome of [receiver, sender]) {
    const error = rejectionOf(outcome);
    assert.ok(error instanceof CodeMismatchError, String(error));
    assert.match(error.message, /^Code mismatch: the other side typed a different code/);
  }
  assert.match((rejectionOf(sender) as Error).message, /nothing was sent$/);
  assert.match((rejectionOf(receiver) as Error).message, /nothing was received$/);
});

Deno.test("runPakeHandshake fails on both sides when the channel bindings differ (TLS MITM)", async () => {
  const [receiver, sender] = await runBoth(bytePair(), {
    channelBinding: new Uint8Array(32).fill(0xcd),
  });
  assert.ok(rejectionOf(receiver) instanceof CodeMismatchError);
  assert.ok(rejectionOf(sender) instanceof CodeMismatchError);
});

Deno.test("runPakeHandshake fails on both sides when the nameplates differ", async () => {
  const [receiver, sender] = await runBoth(transformPair(), { nameplate: "8" });
  assert.ok(rejectionOf(receiver) instanceof CodeMismatchError);
  assert.ok(rejectionOf(sender) instanceof CodeMismatchError);
});

Deno.test("runPakeHandshake fails on both sides when both play the sender", async () => {
  const [receiverEnd, senderEnd] = transformPair();
  const outcomes = await bounded(Promise.allSettled([
    runPakeHandshake(receiverEnd, options("sender")),
    runPakeHandshake(senderEnd, options("sender")),
  ]));
  for (const outcome of outcomes) assert.ok(rejectionOf(outcome) instanceof CodeMismatchError);
});

Deno.test("runPakeHandshake rejects with ProtocolError when the peer closes early", async () => {
  const cases: Array<[string, Uint8Array]> = [
    ["nothing sent", new Uint8Array(0)],
    ["half a header", new Uint8Array([1, 1])],
    ["header only", new Uint8Array([1, 1, 0, 65])],
  ];
  for (const [label, bytes] of cases) {
    const [local, peer] = transformPair();
    const writer = peer.writable.getWriter();
    const peerDone = (bytes.length > 0 ? writer.write(bytes) : Promise.resolve())
      .then(() => writer.close());
    await assert.rejects(
      bounded(runPakeHandshake(local, options("receiver"))),
      (error: unknown) => error instanceof ProtocolError && /stream ended/.test(error.message),
      label,
    );
    await bounded(peerDone);
  }
});

Deno.test("runPakeHandshake rejects with ProtocolError when the peer closes before CONFIRM", async () => {
  const [local, peer] = transformPair();
  const spake = await Spake2.start("B", text.encode(CODE), {
    identityA: receiverIdentity(NAMEPLATE),
    identityB: senderIdentity(NAMEPLATE),
    aad: BINDING,
  });
  const writer = peer.writable.getWriter();
  const reader = new ByteReader(peer.readable, { what: "PAKE stream" });
  const peerDone = (async () => {
    await writer.write(encodeFrame(FrameType.Share, spake.message));
    await reader.readExact(4 + 65);
    await writer.close();
  })();
  await assert.rejects(bounded(runPakeHandshake(local, options("receiver"))), ProtocolError);
  await bounded(peerDone);
  reader.release();
});

Deno.test("runPakeHandshake rejects malformed frames and points with ProtocolError", async () => {
  const share = (payload: Uint8Array) => new Uint8Array([1, 1, 0, payload.length, ...payload]);
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ["bad version", new Uint8Array([9, 1, 0, 65]), /version 9 is not supported/],
    ["unknown type", new Uint8Array([1, 7, 0, 65]), /unknown type 0x07/],
    ["CONFIRM first", new Uint8Array([1, 2, 0, 32]), /got CONFIRM, expected SHARE/],
    ["too long", new Uint8Array([1, 1, 0xff, 0xff]), /exceeds limit of 256 bytes/],
    ["wrong length", new Uint8Array([1, 1, 0, 64]), /length 64 is not 65/],
    ["zero point", share(new Uint8Array(65)), /SPAKE2 share/],
    ["off-curve point", share(new Uint8Array(65).fill(4)), /not a point on P-256/],
  ];
  for (const [label, bytes, pattern] of cases) {
    const [local, peer] = bytePair();
    const writer = peer.writable.getWriter();
    await writer.write(bytes);
    await assert.rejects(
      bounded(runPakeHandshake(local, options("receiver"))),
      (error: unknown) => error instanceof ProtocolError && pattern.test(error.message),
      label,
    );
    await writer.close();
  }
});

Deno.test("runPakeHandshake rejects with ConnectionLostError, not ProtocolError, when the peer's stream fails", async () => {
  const [local, peer] = transformPair();
  const failure = new Error("connection reset");
  await peer.writable.abort(failure);
  await assert.rejects(
    bounded(runPakeHandshake(local, options("receiver"))),
    (error: unknown) =>
      error instanceof ConnectionLostError && !(error instanceof ProtocolError) &&
      error.cause === failure && /stream failed.*connection reset/.test(error.message),
  );
});

Deno.test("runPakeHandshake rejects with the abort reason and releases the stream", async () => {
  const [local] = transformPair();
  const controller = new AbortController();
  const reason = new Error("user pressed Ctrl-C");
  const running = runPakeHandshake(local, options("receiver", { signal: controller.signal }));
  queueMicrotask(() => controller.abort(reason));
  await assert.rejects(bounded(running), (error: unknown) => error === reason);
  assert.equal(local.readable.locked, false);
  assert.equal(local.writable.locked, false);
});

Deno.test("runPakeHandshake rejects at once with an already aborted signal", async () => {
  const [local] = transformPair();
  const reason = new Error("already gone");
  await assert.rejects(
    runPakeHandshake(local, options("receiver", { signal: AbortSignal.abort(reason) })),
    (error: unknown) => error === reason,
  );
  assert.equal(local.readable.locked, false);
});

Deno.test("runPakeHandshake times out through AbortSignal.timeout", async () => {
  const [local] = bytePair();
  await assert.rejects(
    bounded(runPakeHandshake(local, options("receiver", { signal: AbortSignal.timeout(20) }))),
    (error: unknown) => error instanceof DOMException && error.name === "TimeoutError",
  );
});

Deno.test("runPakeHandshake rejects bad options before touching the stream", async () => {
  const [local] = transformPair();
  const bad: Array<[Partial<PakeHandshakeOptions>, ErrorConstructor]> = [
    [{ role: "relay" as "sender" }, TypeError],
    [{ code: "" }, RangeError],
    [{ nameplate: "" }, RangeError],
    [{ channelBinding: new Uint8Array(31) }, RangeError],
    [{ channelBinding: text.encode("ab".repeat(32)) }, RangeError],
  ];
  for (const [override, type] of bad) {
    await assert.rejects(runPakeHandshake(local, options("receiver", override)), type);
    assert.equal(local.readable.locked, false);
  }
});
