import { toastManager } from '$lib/managers/toast-manager.svelte';

/**
 * The one place the UI reports a failure: shows `message` with the reason a person can act on,
 * logs the rest, and ignores cancellations the user asked for.
 */
export function handleError(err: unknown, message: string): void {
  if (err instanceof DOMException && err.name === 'AbortError') return;
  console.error(message, err);
  const reason = err instanceof Error && err.message ? ` ${err.message}` : '';
  toastManager.show('error', `${message}.${reason}`);
}
