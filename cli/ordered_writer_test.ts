import assert from "node:assert/strict";
import { OrderedWriter, type WriterSink } from "./ordered_writer.ts";

/** A sink whose writes finish only when the test lets them, as a reader that is not reading. */
class HeldSink implements WriterSink {
  text = "";
  #release = Promise.withResolvers<void>();
  #decoder = new TextDecoder();
  constructor(readonly fails?: Error) {}
  async write(bytes: Uint8Array): Promise<number> {
    await this.#release.promise;
    if (this.fails) throw this.fails;
    this.text += this.#decoder.decode(bytes);
    return bytes.length;
  }
  release(): void {
    this.#release.resolve();
  }
}

Deno.test("OrderedWriter returns at once and writes everything in order once the reader reads", async () => {
  const sink = new HeldSink();
  const writer = new OrderedWriter();
  for (const line of ["a\n", "b\n", "c\n"]) writer.write(sink, line);
  assert.equal(sink.text, "", "nothing written while the reader does not read");
  sink.release();
  await writer.flushed();
  assert.equal(sink.text, "a\nb\nc\n");
});

Deno.test("OrderedWriter keeps only the newest of the progress lines waiting, and every other line", async () => {
  const out = new HeldSink();
  const err = new HeldSink();
  const writer = new OrderedWriter();
  writer.write(out, "offer\n");
  writer.write(out, "1%\n", { latest: true });
  writer.write(out, "2%\n", { latest: true });
  writer.write(err, "warning\n");
  writer.write(out, "3%\n", { latest: true });
  writer.write(out, "4%\n", { latest: true });
  writer.write(out, "done\n");
  out.release();
  err.release();
  await writer.flushed();
  // Of each run of progress lines waiting together only the last; a line between two runs stays.
  assert.equal(out.text, "offer\n2%\n4%\ndone\n");
  assert.equal(err.text, "warning\n");
});

Deno.test("OrderedWriter drops what goes to a sink whose reader is gone, and goes on with the others", async () => {
  const gone = new HeldSink(new Deno.errors.BrokenPipe("Broken pipe (os error 32)"));
  const err = new HeldSink();
  const writer = new OrderedWriter();
  writer.write(gone, "code\n");
  writer.write(err, "warning\n");
  writer.write(gone, "paired\n");
  gone.release();
  err.release();
  await writer.flushed();
  writer.write(gone, "done\n");
  writer.write(err, "error\n");
  await writer.flushed();
  assert.equal(gone.text, "");
  assert.equal(err.text, "warning\nerror\n");
});
