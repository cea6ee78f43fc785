// Finds the faces in a video: runs detector-worker.ts and keeps a live copy of its tracks on this
// thread, so the renderer can use them while detection is still going (a few seconds ahead).
import wasmLoaderUrl from '@mediapipe/tasks-vision/vision_wasm_module_internal.js?url';
import wasmBinaryUrl from '@mediapipe/tasks-vision/vision_wasm_module_internal.wasm?url';
import modelUrl from 'virtual:exhibit/face-model';
import {
  DEFAULT_DETECTOR,
  type DetectorOptions,
  type DetectorStats,
  type WorkerReply,
  type WorkerRequest,
} from './detector-protocol.ts';
import { estimator, RedactionCancelled, type RedactionProgress } from './progress.ts';
import { decodableSource } from './source.ts';
import type { FaceAnalysis, FaceTrack } from './recipe.ts';

export const FACE_MODEL = 'BlazeFace short range (MediaPipe), tiled';

export interface AnalysisOptions {
  source: Blob | string;
  /** The file's name, a hint for formats ffmpeg.wasm recognises by extension. */
  sourceName?: string;
  sourceSha256: string;
  detector?: Partial<DetectorOptions>;
  signal?: AbortSignal;
  onProgress?: (progress: RedactionProgress) => void;
}

export interface LiveAnalysis {
  /** Tracks as found so far (points are appended as detection goes on). */
  readonly tracks: ReadonlyMap<string, FaceTrack>;
  /** Resolves once detection has passed `t` seconds (or ended). */
  reached(t: number): Promise<void>;
  readonly result: Promise<FaceAnalysis>;
  /** Seconds a mask is held before a face's first and after its last sighting. */
  readonly hold: number;
  /** What detection cost, once it is done. */
  readonly stats: DetectorStats | undefined;
}

/** Starts detection; the result resolves with every track once the whole video is analysed. */
export function startFaceAnalysis(options: AnalysisOptions): LiveAnalysis {
  const detector: DetectorOptions = { ...DEFAULT_DETECTOR, ...options.detector };
  const worker = new Worker(new URL('./detector-worker.ts', import.meta.url), { type: 'module' });
  // A second detector takes half of each frame's scan tiles: detection is the slow part, and the
  // renderer following it leaves most of the other core free.
  const helper = new Worker(new URL('./detector-worker.ts', import.meta.url), { type: 'module' });
  const channel = new MessageChannel();
  const tracks = new Map<string, FaceTrack>();
  // A new face is found by a scan that reaches its part of the frame once every `scanEvery`
  // frames; the worker then looks back that far for it (backfill). Masks are held a little before
  // a track's first and after its last sighting: two detection steps.
  let frameRate = 30;
  let hold = (2 * detector.step) / frameRate;
  let backfill = detector.scanEvery / frameRate;
  let frontier = -Infinity;
  let finished = false;
  let stats: DetectorStats | undefined;
  const waiting: Array<{ t: number; resolve: () => void }> = [];
  const wake = () => {
    for (let i = waiting.length - 1; i >= 0; i--) {
      const waiter = waiting[i]!;
      if (finished || waiter.t <= frontier) {
        waiting.splice(i, 1);
        waiter.resolve();
      }
    }
  };

  const result = new Promise<FaceAnalysis>((resolve, reject) => {
    let info: Extract<WorkerReply, { type: 'started' }> | undefined;
    const progress = estimator('analysing');
    const stop = (error: Error | null, frames = 0) => {
      finished = true;
      wake();
      worker.terminate();
      helper.terminate();
      options.signal?.removeEventListener('abort', abort);
      if (error) return reject(error);
      if (!info) return reject(new Error('the detector stopped before reading the video'));
      resolve({
        version: 1,
        source: options.sourceSha256,
        width: info.width,
        height: info.height,
        frameRate: info.frameRate,
        frames: frames || info.frames,
        detector: {
          model: FACE_MODEL,
          step: detector.step,
          scanEvery: detector.scanEvery,
          minScore: detector.lowScore,
        },
        hold,
        tracks: [...tracks.values()],
      });
    };
    const abort = () => {
      worker.postMessage({ type: 'cancel' } satisfies WorkerRequest);
      stop(new RedactionCancelled());
    };
    if (options.signal?.aborted) return abort();
    options.signal?.addEventListener('abort', abort, { once: true });
    worker.onerror = (event) => stop(new Error(`face detection failed: ${event.message}`));
    helper.onerror = (event) => stop(new Error(`face detection failed: ${event.message}`));
    helper.onmessage = (event: MessageEvent<WorkerReply>) => {
      if (event.data.type === 'error')
        stop(new Error(`face detection failed: ${event.data.message}`));
    };
    worker.onmessage = (event: MessageEvent<WorkerReply>) => {
      const reply = event.data;
      switch (reply.type) {
        case 'started':
          info = reply;
          frameRate = reply.frameRate;
          hold = (2 * detector.step) / frameRate;
          backfill = detector.scanEvery / frameRate;
          return;
        case 'sightings':
          for (const { id, points } of reply.added) {
            const track = tracks.get(id);
            if (track) track.points.push(...points);
            else tracks.set(id, { id, points: [...points] });
          }
          for (const { id, points } of reply.earlier) tracks.get(id)?.points.unshift(...points);
          // Tracks are final up to where no later scan can still start one (and look back for it)
          // or bridge a gap.
          frontier = reply.t - Math.max(hold, detector.maxGap, backfill) - 0.1;
          wake();
          return;
        case 'progress':
          options.onProgress?.(progress(reply.done, info?.frames ?? 0));
          return;
        case 'done':
          stats = reply.stats;
          options.onProgress?.(progress(reply.frames, reply.frames));
          return stop(null, reply.frames);
        case 'cancelled':
          return stop(new RedactionCancelled());
        case 'error':
          return stop(new Error(`face detection failed: ${reply.message}`));
      }
    };
    const converting = estimator('converting');
    decodableSource(options.source, {
      name: options.sourceName,
      signal: options.signal,
      onProgress: (fraction) => options.onProgress?.(converting(Math.round(fraction * 1000), 1000)),
    }).then(
      (source) => {
        if (!finished) start(source);
      },
      (error: unknown) => stop(error instanceof Error ? error : new Error(String(error))),
    );
  });
  result.catch(() => undefined);

  function start(source: Blob | string): void {
    const urls = {
      modelUrl: new URL(modelUrl, location.href).href,
      wasmLoaderUrl: new URL(wasmLoaderUrl, location.href).href,
      wasmBinaryUrl: new URL(wasmBinaryUrl, location.href).href,
    };
    helper.postMessage(
      {
        type: 'helper',
        ...urls,
        lowScore: detector.lowScore,
        port: channel.port2,
      } satisfies WorkerRequest,
      [channel.port2],
    );
    worker.postMessage(
      {
        type: 'start',
        source,
        ...urls,
        options: detector,
        helperPort: channel.port1,
      } satisfies WorkerRequest,
      [channel.port1],
    );
  }

  return {
    tracks,
    get hold() {
      return hold;
    },
    get stats() {
      return stats;
    },
    reached(t) {
      if (finished || t <= frontier) return Promise.resolve();
      return new Promise((resolve) => waiting.push({ t, resolve }));
    },
    result,
  };
}

/** Detects and tracks every face in the video. */
export function analyseFaces(options: AnalysisOptions): Promise<FaceAnalysis> {
  return startFaceAnalysis(options).result;
}
