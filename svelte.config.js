import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
  preprocess: vitePreprocess(),
  kit: {
    // The PWA is a static shell; cases and evidence arrive through sync and the API, so
    // every unknown path falls back to index.html and the client router takes over.
    adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html', strict: true }),
    files: {
      src: 'web',
      routes: 'web/routes',
      lib: 'web/lib',
      assets: 'web/static',
      appTemplate: 'web/app.html',
      errorTemplate: 'web/error.html',
      hooks: { client: 'web/hooks.client', server: 'web/hooks.server', universal: 'web/hooks' },
      params: 'web/params',
      serviceWorker: 'web/service-worker',
    },
    // The shell may load only what the app itself serves; evidence and sync stay same-origin.
    csp: {
      mode: 'hash',
      directives: {
        'default-src': ['self'],
        'script-src': ['self', 'wasm-unsafe-eval'],
        'worker-src': ['self', 'blob:'],
        'connect-src': ['self'],
        'img-src': ['self', 'blob:', 'data:'],
        'media-src': ['self', 'blob:'],
        'style-src': ['self', 'unsafe-inline'],
        'object-src': ['none'],
        'base-uri': ['self'],
        'form-action': ['self'],
      },
    },
    // Workbox generates the service worker after the build (web/build-service-worker.ts).
    serviceWorker: { register: false },
  },
};

export default config;
