// Browser-safe: messages between analyse.ts and detector-worker.ts.
import type { TrackPoint } from './recipe.ts';

export interface DetectorOptions {
  /** Smallest face to find, in source pixels. */
  minFace: number;
  /** Detect on every `step`-th frame (tracks are interpolated between). */
  step: number;
  /** A full tiled scan for new faces is spread over this many frames. */
  scanEvery: number;
  /** Detections at least this sure continue tracks in the first matching pass. */
  highScore: number;
  /** A new face is only tracked when a closer look scores it at least this. */
  confirmScore: number;
  /** Weaker detections are ignored. */
  lowScore: number;
  /** Seconds a face may go unseen before its track ends. */
  maxGap: number;
}

export const DEFAULT_DETECTOR: DetectorOptions = {
  minFace: 24,
  step: 5,
  scanEvery: 120,
  highScore: 0.45,
  confirmScore: 0.7,
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
      /** To a second worker that takes half of each frame's scan tiles. */
      helperPort?: MessagePort;
    }
  | {
      type: 'helper';
      modelUrl: string;
      wasmLoaderUrl: string;
      wasmBinaryUrl: string;
      lowScore: number;
      port: MessagePort;
    }
  | { type: 'cancel' };

/** What detection cost: detector calls and the time spent reading pixels and detecting. */
export interface DetectorStats {
  calls: number;
  /** Scan tiles not run through the detector because their picture had not changed. */
  skipped: number;
  detectionFrames: number;
  seconds: number;
}

export type WorkerReply =
  | {
      type: 'started';
      width: number;
      height: number;
      frames: number;
      frameRate: number;
      duration: number;
    }
  | {
      type: 'sightings';
      t: number;
      /** New sightings after each track's last. */
      added: Array<{ id: string; points: TrackPoint[] }>;
      /** Sightings before a new track's first, found by looking back (at most `backfill` seconds). */
      earlier: Array<{ id: string; points: TrackPoint[] }>;
    }
  | { type: 'progress'; done: number; t: number }
  | { type: 'done' | 'cancelled'; frames: number; stats: DetectorStats }
  | { type: 'error'; message: string };
