// Browser-safe: messages between analyse.ts and detector-worker.ts.
import type { TrackPoint } from './recipe.ts';

export interface DetectorOptions {
  /** Smallest face to find, in source pixels. */
  minFace: number;
  /** Detect on every `step`-th frame (tracks are interpolated between). */
  step: number;
  /** A full tiled scan for new faces is spread over this many frames. */
  scanEvery: number;
  highScore: number;
  lowScore: number;
  /** Seconds a face may go unseen before its track ends. */
  maxGap: number;
}

export const DEFAULT_DETECTOR: DetectorOptions = {
  minFace: 24,
  step: 3,
  scanEvery: 30,
  highScore: 0.45,
  lowScore: 0.15,
  maxGap: 1.5,
};

export type WorkerRequest =
  | {
      type: 'start';
      source: Blob | string;
      modelUrl: string;
      wasmLoaderUrl: string;
      wasmBinaryUrl: string;
      options: DetectorOptions;
    }
  | { type: 'cancel' };

export type WorkerReply =
  | { type: 'started'; width: number; height: number; frames: number; frameRate: number; duration: number }
  | { type: 'sightings'; t: number; added: Array<{ id: string; points: TrackPoint[] }> }
  | { type: 'progress'; done: number; t: number }
  | { type: 'done' | 'cancelled'; frames: number }
  | { type: 'error'; message: string };
