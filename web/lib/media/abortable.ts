// Browser-safe: no Node built-ins. Reading a file is a chain of small steps, any of which can
// fail on a bad file or wait on a slow disk; these keep one bad step from failing or holding up
// the rest.

/**
 * Runs one step and gives undefined if it fails, so the steps after it can still find
 * something. Only an abort is passed on: a cancelled upload stops rather than finishing with
 * half its metadata.
 */
export async function attempt<T>(
  step: () => Promise<T>,
  signal: AbortSignal | undefined,
): Promise<T | undefined> {
  try {
    return await step();
  } catch {
    signal?.throwIfAborted();
    return undefined;
  }
}

/**
 * `work`, or the signal's reason as soon as it is aborted: a Blob read or a decoder that never
 * answers cannot be cancelled, but the caller need not wait for it.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    void work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
