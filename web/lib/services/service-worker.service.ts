import { Workbox } from 'workbox-window';
import { dev } from '$app/environment';

/**
 * Registers the Workbox service worker that precaches the app shell, so the PWA opens with no
 * connection. Not in `vite dev`, where files change under it.
 */
export async function registerServiceWorker(): Promise<void> {
  if (dev || !('serviceWorker' in navigator)) return;
  const wb = new Workbox('/sw.js');
  await wb.register();
}
