// Serves the face model with metadata (built from @mediapipe/face_detection's file) as
// `virtual:exhibit/face-model`, whose default export is the model's URL: emitted into the build,
// where the service worker precaches it, and served from memory by the dev server.
import type { Plugin } from 'vite';
import { buildFaceModel, FACE_MODEL_FILE } from './face-model.ts';

const ID = 'virtual:exhibit/face-model';
const RESOLVED = `\0${ID}`;
const DEV_PATH = `/@exhibit/${FACE_MODEL_FILE}`;

export function faceModel(): Plugin {
  let serving = false;
  return {
    name: 'exhibit-face-model',
    configResolved(config) {
      serving = config.command === 'serve';
    },
    resolveId(id) {
      return id === ID ? RESOLVED : null;
    },
    async load(id) {
      if (id !== RESOLVED) return null;
      if (serving) return `export default ${JSON.stringify(DEV_PATH)};`;
      const reference = this.emitFile({
        type: 'asset',
        name: FACE_MODEL_FILE,
        source: await buildFaceModel(),
      });
      return `export default import.meta.ROLLUP_FILE_URL_${reference};`;
    },
    configureServer(server) {
      server.middlewares.use(DEV_PATH, (_request, response, next) => {
        buildFaceModel().then((model) => {
          response.setHeader('content-type', 'application/octet-stream');
          response.end(model);
        }, next);
      });
    },
  };
}
