/**
 * @internal Calls `forceFlush()` on each provider that has one and waits for them `ms` at most, so a slow or
 * dead exporter never hangs `app.close()`. Errors go to `onError`, never thrown.
 */
export async function flush(providers: unknown[], ms: number, onError: (e: unknown) => void): Promise<void> {
  const flushes: Promise<unknown>[] = [];
  for (const p of providers) {
    const f = (p as { forceFlush?: () => Promise<unknown> } | undefined)?.forceFlush;
    if (typeof f !== "function") continue;
    try {
      flushes.push(Promise.resolve(f.call(p)).catch(onError));
    } catch (error) {
      onError(error);
    }
  }
  if (flushes.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  try {
    await Promise.race([Promise.all(flushes), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
