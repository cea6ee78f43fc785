// Generates the Workbox service worker after `vite build`: it precaches the whole app shell
// (scripts, styles, wasm, models) so the PWA opens and works with no connection.
import { generateSW } from 'workbox-build';

const { count, size, warnings } = await generateSW({
  globDirectory: 'build',
  // mjs: module workers shipped as such (the PDF.js worker).
  globPatterns: ['**/*.{html,js,mjs,css,svg,png,ico,webmanifest,json,wasm,tflite,woff2}'],
  swDest: 'build/sw.js',
  navigateFallback: '/index.html',
  navigateFallbackDenylist: [/^\/api\//, /^\/sync\//],
  // Engines (ffmpeg.wasm, models) are large; they must still work offline.
  maximumFileSizeToCacheInBytes: 64 * 1024 * 1024,
  clientsClaim: true,
  skipWaiting: true,
  cleanupOutdatedCaches: true,
  sourcemap: false,
  mode: 'production',
  // SvelteKit's hashed file names already version the immutable assets.
  dontCacheBustURLsMatching: /\/_app\/immutable\//,
});
for (const warning of warnings) console.warn(`service worker: ${warning}`);
console.log(`service worker: precaching ${count} files, ${(size / 1024).toFixed(0)} KiB`);
