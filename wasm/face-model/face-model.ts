// The BlazeFace short-range model with the TFLite metadata MediaPipe Tasks needs (see
// tflite-metadata.ts). Used at build time by the Vite plugin and by tests; Node only.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { addTfliteMetadata, imageModelMetadata } from './tflite-metadata.ts';

export const FACE_MODEL_FILE = 'face_detection_short_range.tflite';

export function faceModelSourcePath(): string {
  return createRequire(import.meta.url).resolve(`@mediapipe/face_detection/${FACE_MODEL_FILE}`);
}

/** BlazeFace short range: a 128×128 RGB input scaled to [-1, 1], 896 anchors out. */
export function withFaceDetectorMetadata(model: Uint8Array): Uint8Array {
  return addTfliteMetadata(
    model,
    imageModelMetadata({
      name: 'BlazeFace short range',
      description: 'Detects faces within about 2 m of the camera in a 128×128 image.',
      version: 'mediapipe/face_detection 0.4.1657300184',
      author: 'Google (MediaPipe); metadata added by Exhibit',
      license: 'Apache-2.0',
      width: 128,
      height: 128,
      mean: 127.5,
      std: 127.5,
      outputs: [
        { name: 'regressors', description: 'Box and 6 keypoints per anchor (896 × 16).' },
        { name: 'classificators', description: 'Face score logit per anchor (896 × 1).' },
      ],
    }),
  );
}

export async function buildFaceModel(): Promise<Uint8Array> {
  return withFaceDetectorMetadata(new Uint8Array(await readFile(faceModelSourcePath())));
}
