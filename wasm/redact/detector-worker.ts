/// <reference lib="webworker" />
// Face detection off the main thread: decodes the video (mediabunny, WebCodecs), reads tiles and
// crops of the frames it detects on into the detector's 128×128 input, runs MediaPipe's
// FaceDetector (the BlazeFace short-range model with the metadata wasm/face-model adds), and
// links what it finds into tracks. It reports each track's new sightings as it goes, so a
// renderer can follow a few seconds behind.
import { FaceDetector } from '@mediapipe/tasks-vision';
import { ALL_FORMATS, BlobSource, Input, UrlSource, VideoSampleSink, type VideoSample } from 'mediabunny';
import type { Box, TrackPoint } from './recipe.ts';
import { scanTiles, tilesForFrame, MODEL_INPUT, type Tile } from './tiles.ts';
import { FaceTracker, suppress, type Detection } from './tracker.ts';
import type { WorkerReply, WorkerRequest } from './detector-protocol.ts';

declare const self: DedicatedWorkerGlobalScope;

/** A crop around a known face is this many times the face, so it sits mid-range for the model. */
const CROP_FACTOR = 2.6;
/** Crops around known faces share one detector call, 2×2 in its input. */
const MOSAIC = 2;

let cancelled = false;

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  if (request.type === 'cancel') {
    cancelled = true;
    return;
  }
  run(request).catch((error: unknown) => {
    post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  });
};

function post(reply: WorkerReply): void {
  self.postMessage(reply);
}

async function run(request: Extract<WorkerRequest, { type: 'start' }>): Promise<void> {
  const { options } = request;
  const detector = await FaceDetector.createFromOptions(
    { wasmLoaderPath: request.wasmLoaderUrl, wasmBinaryPath: request.wasmBinaryUrl },
    {
      baseOptions: { modelAssetPath: request.modelUrl, delegate: 'CPU' },
      runningMode: 'IMAGE',
      minDetectionConfidence: options.lowScore,
      minSuppressionThreshold: 0.3,
    },
  );
  const input = new Input({
    source: typeof request.source === 'string' ? new UrlSource(request.source) : new BlobSource(request.source),
    formats: ALL_FORMATS,
  });
  try {
    const track = await input.getPrimaryVideoTrack();
    if (!track) throw new Error('the file has no video track');
    if (!(await track.canDecode())) throw new Error(`this browser cannot decode ${track.codec ?? 'this'} video`);
    // Rotation metadata is not applied: boxes are in the decoded frame's own orientation, which is
    // also what the renderer paints on.
    const width = await track.getCodedWidth();
    const height = await track.getCodedHeight();
    const stats = await track.computePacketStats();
    const duration = await track.computeDuration();
    const frames = stats.packetCount;
    const frameRate = stats.averagePacketRate || 30;
    post({ type: 'started', width, height, frames, frameRate, duration });

    const tiles = scanTiles(width, height, options.minFace);
    const tracker = new FaceTracker({ highScore: options.highScore, lowScore: options.lowScore, maxGap: options.maxGap });
    const canvas = new OffscreenCanvas(MODEL_INPUT, MODEL_INPUT);
    const context = canvas.getContext('2d', { willReadFrequently: true, alpha: false });
    if (!context) throw new Error('no 2D canvas in this worker');
    const posted = new Map<string, number>();
    const sink = new VideoSampleSink(track);
    let index = 0;
    let lastReport = 0;
    for await (const sample of sink.samples()) {
      if (cancelled) {
        sample.close();
        break;
      }
      const t = sample.timestamp;
      try {
        const scan = tilesForFrame(tiles, index, options);
        const crops = index % options.step === 0 ? tracker.predictions(t) : [];
        if (scan.length > 0 || crops.length > 0) {
          const detections: Detection[] = [];
          for (const tile of scan) detections.push(...detectTile(detector, context, sample, tile, width, height));
          for (let i = 0; i < crops.length; i += MOSAIC * MOSAIC) {
            detections.push(
              ...detectMosaic(detector, context, sample, crops.slice(i, i + MOSAIC * MOSAIC), width, height),
            );
          }
          tracker.update(t, suppress(detections));
          const added: Array<{ id: string; points: TrackPoint[] }> = [];
          for (const face of tracker.tracks) {
            const from = posted.get(face.id) ?? 0;
            if (face.points.length > from) {
              added.push({ id: face.id, points: face.points.slice(from) });
              posted.set(face.id, face.points.length);
            }
          }
          post({ type: 'sightings', t, added });
        }
      } finally {
        sample.close();
      }
      index++;
      const now = performance.now();
      if (now - lastReport > 200) {
        lastReport = now;
        post({ type: 'progress', done: index, t });
      }
    }
    post({ type: cancelled ? 'cancelled' : 'done', frames: index });
  } finally {
    detector.close();
    input.dispose();
  }
}

/** Draws a frame region into the detector's input, letterboxed; returns how to map boxes back. */
function readRegion(
  context: OffscreenCanvasRenderingContext2D,
  sample: VideoSample,
  region: Tile,
  into: { x: number; y: number; size: number },
): { scale: number; dx: number; dy: number } {
  const scale = into.size / Math.max(region.w, region.h);
  const dw = region.w * scale;
  const dh = region.h * scale;
  const dx = into.x + (into.size - dw) / 2;
  const dy = into.y + (into.size - dh) / 2;
  sample.draw(context, region.x, region.y, region.w, region.h, dx, dy, dw, dh);
  return { scale, dx, dy };
}

function toFrameBox(
  box: { originX: number; originY: number; width: number; height: number },
  region: Tile,
  mapping: { scale: number; dx: number; dy: number },
  width: number,
  height: number,
): Box {
  const x = region.x + (box.originX - mapping.dx) / mapping.scale;
  const y = region.y + (box.originY - mapping.dy) / mapping.scale;
  return { x: x / width, y: y / height, w: box.width / mapping.scale / width, h: box.height / mapping.scale / height };
}

function detectTile(
  detector: FaceDetector,
  context: OffscreenCanvasRenderingContext2D,
  sample: VideoSample,
  tile: Tile,
  width: number,
  height: number,
): Detection[] {
  context.fillStyle = '#000';
  context.fillRect(0, 0, MODEL_INPUT, MODEL_INPUT);
  const mapping = readRegion(context, sample, tile, { x: 0, y: 0, size: MODEL_INPUT });
  const result = detector.detect(context.getImageData(0, 0, MODEL_INPUT, MODEL_INPUT));
  const found: Detection[] = [];
  for (const detection of result.detections) {
    const box = detection.boundingBox;
    if (!box) continue;
    found.push({ box: toFrameBox(box, tile, mapping, width, height), score: detection.categories[0]?.score ?? 0 });
  }
  return found;
}

/** Up to four crops around predicted faces in one call, each in its own quarter of the input. */
function detectMosaic(
  detector: FaceDetector,
  context: OffscreenCanvasRenderingContext2D,
  sample: VideoSample,
  predictions: ReadonlyArray<{ box: Box }>,
  width: number,
  height: number,
): Detection[] {
  const cell = MODEL_INPUT / MOSAIC;
  context.fillStyle = '#000';
  context.fillRect(0, 0, MODEL_INPUT, MODEL_INPUT);
  const placed = predictions.map((prediction, i) => {
    const box = prediction.box;
    const side = Math.min(
      Math.max(48, CROP_FACTOR * Math.max(box.w * width, box.h * height)),
      Math.min(width, height),
    );
    const cx = (box.x + box.w / 2) * width;
    const cy = (box.y + box.h / 2) * height;
    const region: Tile = {
      x: Math.round(Math.min(Math.max(0, cx - side / 2), width - side)),
      y: Math.round(Math.min(Math.max(0, cy - side / 2), height - side)),
      w: Math.round(side),
      h: Math.round(side),
    };
    const into = { x: (i % MOSAIC) * cell, y: Math.floor(i / MOSAIC) * cell, size: cell };
    return { region, into, mapping: readRegion(context, sample, region, into) };
  });
  const result = detector.detect(context.getImageData(0, 0, MODEL_INPUT, MODEL_INPUT));
  const found: Detection[] = [];
  for (const detection of result.detections) {
    const box = detection.boundingBox;
    if (!box) continue;
    const cx = box.originX + box.width / 2;
    const cy = box.originY + box.height / 2;
    const home = placed.find(
      ({ into }) => cx >= into.x && cx < into.x + into.size && cy >= into.y && cy < into.y + into.size,
    );
    if (!home) continue;
    found.push({
      box: toFrameBox(box, home.region, home.mapping, width, height),
      score: detection.categories[0]?.score ?? 0,
    });
  }
  return found;
}
