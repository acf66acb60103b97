/**
 * What a person at the terminal reads and types, through the real CLI: the code as typed, the
 * receiver's prompt and the answers it takes.
 */
import assert from "node:assert/strict";
import { boundedTest } from "./bounded.ts";
import { bothSucceed, listDir, sendToPrompt, type World, world } from "./world.ts";

function e2e(name: string, fn: (signal: AbortSignal) => Promise<void>, timeoutMs = 60_000) {
  boundedTest(name, fn, { timeoutMs, sanitizeResources: false });
}

/** A sender of notes.txt ("hello\n") and its receiver on a terminal, at the prompt; its keys. */
async function atPrompt(w: World, signal: AbortSignal) {
  await Deno.writeTextFile(`${w.dir}/notes.txt`, "hello\n");
  await Deno.mkdir(`${w.dir}/in`);
  return await sendToPrompt(w, [`${w.dir}/notes.txt`], "notes.txt", signal);
}

e2e("the prompt lists a few files by name, and Done says where they went", async (signal) => {
  await using w = await world(signal);
  await Deno.writeTextFile(`${w.dir}/notes.txt`, "hello\n");
  await Deno.writeTextFile(`${w.dir}/photo.jpg`, "jpeg");
  await Deno.mkdir(`${w.dir}/in`);
  const { sender, receiver, keys } = await sendToPrompt(
    w,
    [`${w.dir}/notes.txt`, `${w.dir}/photo.jpg`],
    "photo.jpg",
    signal,
  );
  await keys.write(new TextEncoder().encode("y\n"));
  keys.releaseLock();
  const [, received] = await bothSucceed(sender, receiver);
  assert.match(received.stdout, /^ {2}notes\.txt {2}6 B\r?$/m);
  assert.match(received.stdout, /^ {2}photo\.jpg {2}4 B\r?$/m);
  assert.match(received.stdout, /Receive 2 files \(10 B\) from .*\? \[y\/N\]/);
  assert.match(received.stdout, new RegExp(`Saved in ${w.dir}/in: notes\\.txt, photo\\.jpg`));
});

e2e("a typo at the prompt asks again instead of declining", async (signal) => {
  await using w = await world(signal);
  const { sender, receiver, keys } = await atPrompt(w, signal);
  // Before: "ye" declined the offer and spent the code.
  await keys.write(new TextEncoder().encode("ye\n"));
  await receiver.until((event) => /\[y\/N\] ye\r?$/.test(String(event.line ?? "")), signal);
  await keys.write(new TextEncoder().encode("y\n"));
  keys.releaseLock();
  const [, received] = await bothSucceed(sender, receiver);
  // The terminal may echo the "y" typed ahead before the question is asked again.
  assert.ok(
    received.stdout.includes("Please answer y (receive) or n (decline): "),
    received.stdout,
  );
  assert.equal(await Deno.readTextFile(`${w.dir}/in/notes.txt`), "hello\n");
});

e2e("a code typed with a leading zero (07-...) reaches its sender", async (signal) => {
  await using w = await world(signal);
  await Deno.writeTextFile(`${w.dir}/notes.txt`, "hello\n");
  await Deno.mkdir(`${w.dir}/in`);
  // Before: 'Invalid code "01-...": it must start with a number from 1 to 99999'.
  const { sent, received } = await w.transfer([`${w.dir}/notes.txt`], {
    typed: (code) => `0${code}`,
  });
  assert.equal(received.code, 0, received.stderr);
  assert.equal(sent.code, 0, sent.stderr);
  assert.equal(await Deno.readTextFile(`${w.dir}/in/notes.txt`), "hello\n");
});

/** The receiver at the prompt types `keys`, which decline; both run to their end. */
async function declined(keys: string, signal: AbortSignal): Promise<string> {
  await using w = await world(signal);
  const { sender, receiver, keys: typing } = await atPrompt(w, signal);
  await typing.write(new TextEncoder().encode(keys));
  typing.releaseLock();
  const [sent, received] = await Promise.all([sender.finished(), receiver.finished()]);
  assert.equal(received.code, 1, received.stdout);
  assert.doesNotMatch(received.stdout, /error:/);
  assert.equal(sent.code, 1);
  assert.match(sent.stderr, /^error: The receiver declined the offer$/m);
  assert.deepEqual(await listDir(`${w.dir}/in`), []);
  return received.stdout;
}

e2e(
  "declining is not an error: the receiver says Declined. (exit 1, nothing received), the sender that the receiver declined",
  async (signal) => {
    // On a terminal (script's pty) stderr and stdout are one stream.
    assert.match(await declined("n\n", signal), /^Declined\.\r?$/m);
  },
);

e2e(
  "Ctrl-D at the prompt declines on a line of its own, not after the question",
  async (signal) => {
    // Before: "... [y/N] Declined." on one line.
    assert.match(await declined("\x04", signal), /\[y\/N\] \r?\nDeclined\.\r?$/m);
  },
);
