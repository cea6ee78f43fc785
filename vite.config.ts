import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';
import { faceModel } from './wasm/face-model/vite-plugin.ts';

export default defineConfig({
  // The face detector's model, with the metadata MediaPipe needs, built into the app (redaction).
  plugins: [faceModel(), sveltekit()],
  server: {
    // `vite dev` proxies the API and the sync socket to a running Exhibit server.
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/sync': { target: 'ws://127.0.0.1:8080', ws: true },
    },
  },
});
