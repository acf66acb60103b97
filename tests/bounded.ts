/** `Deno.test` with a time limit: the test fails (and its signal aborts) when time runs out. */
export interface BoundedTestOptions {
  timeoutMs?: number;
  ignore?: boolean;
  /** Off for tests that kill child processes on purpose: their pipes close asynchronously. */
  sanitizeResources?: boolean;
}

export function boundedTest(
  name: string,
  fn: (signal: AbortSignal) => Promise<void>,
  options: BoundedTestOptions = {},
): void {
  const timeoutMs = options.timeoutMs ?? 60_000;
  Deno.test({
    name,
    ignore: options.ignore,
    sanitizeResources: options.sanitizeResources ?? true,
    async fn() {
      const controller = new AbortController();
      const timeout = new Error(`${name}: did not finish within ${timeoutMs / 1000} s`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort(timeout);
          reject(timeout);
        }, timeoutMs);
      });
      try {
        await Promise.race([fn(controller.signal), expired]);
      } finally {
        clearTimeout(timer);
      }
    },
  });
}
