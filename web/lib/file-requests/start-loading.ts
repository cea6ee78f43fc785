/**
 * Starts `load` for an `$effect` and hands on its answer, or its reason in words, unless the
 * effect was cleaned up first (the page moved on); returns that clean-up.
 */
export function startLoading<T>(
  load: (signal: AbortSignal) => Promise<T>,
  loaded: (value: T) => void,
  failed: (reason: string) => void,
): () => void {
  const controller = new AbortController();
  load(controller.signal).then(
    (value) => {
      if (!controller.signal.aborted) loaded(value);
    },
    (err: unknown) => {
      if (controller.signal.aborted) return;
      failed(err instanceof Error && err.message ? err.message : 'The server did not answer.');
    },
  );
  return () => controller.abort();
}
