// Waiting for the network in the browser, for uploads that go on when the connection is back.

/** Resolves when the browser says it is online. */
export function whenOnline(signal: AbortSignal): Promise<void> {
  return navigator.onLine ? Promise.resolve() : untilOnline(undefined, signal);
}

/** Waits `ms`, or less if the connection comes back meanwhile: then there is no point waiting. */
export function sleepUnlessOnline(ms: number, signal: AbortSignal): Promise<void> {
  return untilOnline(ms, signal);
}

function untilOnline(ms: number | undefined, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = ms === undefined ? undefined : setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      window.removeEventListener('online', done);
      signal.removeEventListener('abort', aborted);
      resolve();
    }
    function aborted() {
      clearTimeout(timer);
      window.removeEventListener('online', done);
      reject(signal.reason as Error);
    }
    window.addEventListener('online', done, { once: true });
    signal.addEventListener('abort', aborted, { once: true });
  });
}
