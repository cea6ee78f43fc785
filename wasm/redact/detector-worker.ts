/// <reference lib="webworker" />
// Face detection off the main thread: decodes the video (mediabunny, WebCodecs), reads tiles and
// crops of the frames it detects on into the detector's 128×128 input, runs MediaPipe's
// FaceDetector (the BlazeFace short-range model with the metadata wasm/face-model adds), and
// links what it finds into tracks. It reports each track's new sightings as it goes, so a
// renderer can follow a few seconds behind.
import { openInput } from './input.ts';
import { FaceDetector } from '@mediapipe/tasks-vision';
import { VideoSampleSink, type VideoSample } from 'mediabunny';
import { isFrameFormat, type FrameBuffer } from './raster.ts';
import { changedSince, readRegion } from './sampling.ts';
import type { Box, FaceTrack, TrackPoint } from './recipe.ts';
import { scanTiles, tilesForFrame, MODEL_INPUT, type Tile } from './tiles.ts';
import { bufferedIou, coverage, FaceTracker, iou, suppress, type Detection } from './tracker.ts';
import type { DetectorStats, WorkerReply, WorkerRequest } from './detector-protocol.ts';

declare const self: DedicatedWorkerGlobalScope;

/** A crop around a known face is this many times the face, so it sits mid-range for the model. */
const CROP_FACTOR = 2.6;
/** Crops around known faces share one detector call, 2×2 in its input. */
const MOSAIC = 2;
/** Candidates for new faces looked at again per detection frame, strongest first. */
const MOST_CANDIDATES = 16;
/** Scans of an unchanged tile skipped at most this many times running (see UnchangedTiles). */
const SKIPS_IN_A_ROW = 2;
/** Memory for recent frames kept for looking back. */
const RECENT_BYTES = 96 * 1024 * 1024;

let cancelled = false;

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  if (request.type === 'cancel') {
    cancelled = true;
    return;
  }
  if (request.type === 'helper') {
    serveScans(request).catch((error: unknown) => {
      post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    });
    return;
  }
  run(request).catch((error: unknown) => {
    post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  });
};

function createDetector(
  urls: { modelUrl: string; wasmLoaderUrl: string; wasmBinaryUrl: string },
  lowScore: number,
): Promise<FaceDetector> {
  return FaceDetector.createFromOptions(
    { wasmLoaderPath: urls.wasmLoaderUrl, wasmBinaryPath: urls.wasmBinaryUrl },
    {
      baseOptions: { modelAssetPath: urls.modelUrl, delegate: 'CPU' },
      runningMode: 'IMAGE',
      minDetectionConfidence: lowScore,
      minSuppressionThreshold: 0.3,
    },
  );
}

/**
 * Helper mode: a second worker runs half of each frame's scan tiles, so detection uses both cores
 * while the renderer needs less than one. It gets the frame's pixels and tile numbers through a
 * MessagePort from the main detector and answers with what it found.
 */
async function serveScans(request: Extract<WorkerRequest, { type: 'helper' }>): Promise<void> {
  const detector = await createDetector(request, request.lowScore);
  const reader = new FrameReader();
  const unchanged = new UnchangedTiles();
  request.port.onmessage = (event: MessageEvent<ScanJob>) => {
    const job = event.data;
    const frame: FrameBuffer = { ...job.frame, data: new Uint8Array(job.frame.data) };
    const counts = { calls: 0, skipped: 0 };
    const detections = job.tiles.flatMap(({ index, tile }) =>
      detectTile(detector, reader, frame, tile, index, unchanged, counts),
    );
    const reply: ScanResult = { id: job.id, detections, ...counts, data: job.frame.data };
    request.port.postMessage(reply, [job.frame.data]);
  };
}

interface ScanJob {
  id: number;
  frame: Omit<FrameBuffer, 'data'> & { data: ArrayBuffer };
  tiles: Array<{ index: number; tile: Tile }>;
}

interface ScanResult {
  id: number;
  detections: Detection[];
  calls: number;
  skipped: number;
  /** The frame's buffer, handed back for the next job. */
  data: ArrayBuffer;
}

/** The main detector's side of the helper: sends it tiles of a frame, awaits what it found. */
class ScanHelper {
  #next = 1;
  #spare: ArrayBuffer[] = [];
  readonly #waiting = new Map<number, (result: ScanResult) => void>();
  constructor(readonly port: MessagePort) {
    port.onmessage = (event: MessageEvent<ScanResult>) => {
      const result = event.data;
      this.#spare.push(result.data);
      this.#waiting.get(result.id)?.(result);
      this.#waiting.delete(result.id);
    };
  }

  scan(frame: FrameBuffer, tiles: Array<{ index: number; tile: Tile }>): Promise<ScanResult> {
    const id = this.#next++;
    let data = this.#spare.pop();
    if (!data || data.byteLength !== frame.data.byteLength)
      data = new ArrayBuffer(frame.data.byteLength);
    new Uint8Array(data).set(frame.data);
    const job: ScanJob = {
      id,
      frame: {
        format: frame.format,
        width: frame.width,
        height: frame.height,
        layout: frame.layout,
        data,
      },
      tiles,
    };
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      this.port.postMessage(job, [data]);
    });
  }
}

function post(reply: WorkerReply): void {
  self.postMessage(reply);
}

async function run(request: Extract<WorkerRequest, { type: 'start' }>): Promise<void> {
  const { options } = request;
  const detector = await createDetector(request, options.lowScore);
  const helper = request.helperPort ? new ScanHelper(request.helperPort) : undefined;
  const input = openInput(request.source);
  try {
    const track = await input.getPrimaryVideoTrack();
    if (!track) throw new Error('the file has no video track');
    if (!(await track.canDecode()))
      throw new Error(`this browser cannot decode ${track.codec ?? 'this'} video`);
    // Rotation metadata is not applied: boxes are in the decoded frame's own orientation, which is
    // also what the renderer paints on.
    const width = await track.getCodedWidth();
    const height = await track.getCodedHeight();
    const packets = await track.computePacketStats();
    const duration = await track.computeDuration();
    const frames = packets.packetCount;
    const frameRate = packets.averagePacketRate || 30;
    post({ type: 'started', width, height, frames, frameRate, duration });

    const tiles = scanTiles(width, height, options.minFace);
    const tracker = new FaceTracker({
      highScore: options.highScore,
      lowScore: options.lowScore,
      maxGap: options.maxGap,
    });
    const reader = new FrameReader();
    const unchanged = new UnchangedTiles();
    const recent = new RecentFrames(options.scanEvery / frameRate);
    // A pattern that looked like a face once will look like one at the next scan too: do not
    // look again closer for as long as a full scan takes.
    const rejected = new Rejections(options.scanEvery / frameRate);
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
        const crops = index % options.step === 0 ? tracker.predictions(t).map((p) => p.box) : [];
        if (scan.length > 0 || crops.length > 0) {
          const started = performance.now();
          const frame = await reader.read(sample);
          const detections: Detection[] = [];
          // The scan goes to the helper, which works while this worker re-detects known faces (on
          // the first frame, a full scan, it takes every other tile).
          const numbered = scan.map((tile) => ({ index: tiles.indexOf(tile), tile }));
          const toHelper = (tile: number) => index > 0 || tile % 2 === 1;
          const helped = helper?.scan(
            frame,
            numbered.filter(({ index }) => toHelper(index)),
          );
          for (const { index, tile } of numbered) {
            if (helped && toHelper(index)) continue;
            detections.push(...detectTile(detector, reader, frame, tile, index, unchanged, stats));
          }
          detections.push(...detectAround(detector, reader, frame, crops));
          if (helped) {
            const result = await helped;
            detections.push(...result.detections);
            stats.calls += result.calls;
            stats.skipped += result.skipped;
          }
          const candidates = tracker.update(t, suppress(detections));
          // Look again, closer, at what no track took: the detector is surer of a face that fills
          // a good part of its input, and patterns that fooled it from afar rarely survive this.
          // On the first frame every candidate gets its closer look: faces there have no other scan.
          const fresh = rejected
            .filter(t, candidates)
            .slice(0, index === 0 ? undefined : MOST_CANDIDATES);
          const closer = suppress(
            detectAround(
              detector,
              reader,
              frame,
              fresh.map((c) => c.box),
            ),
          );
          const confirmed = closer.filter((d) => d.score >= options.confirmScore);
          const born = tracker.start(confirmed);
          const earlier = born.length > 0 ? lookBack(detector, reader, recent, born) : [];
          rejected.add(
            t,
            fresh.filter(
              (c) =>
                !confirmed.some((d) => iou(d.box, c.box) > 0.2 || coverage(c.box, d.box) > 0.5),
            ),
          );
          stats.seconds += (performance.now() - started) / 1000;
          stats.detectionFrames++;
          for (const { track, points } of earlier) tracker.prepend(track, points);
          const added: Array<{ id: string; points: TrackPoint[] }> = [];
          for (const face of tracker.tracks) {
            const prepended = earlier.find((e) => e.track === face)?.points.length ?? 0;
            const from = (posted.get(face.id) ?? 0) + prepended;
            if (face.points.length > from) {
              added.push({ id: face.id, points: face.points.slice(from) });
            }
            posted.set(face.id, face.points.length);
          }
          post({
            type: 'sightings',
            t,
            added,
            earlier: earlier.map(({ track, points }) => ({ id: track.id, points })),
          });
          recent.keep(t, frame);
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
    post({ type: cancelled ? 'cancelled' : 'done', frames: index, stats });
  } finally {
    detector.close();
    input.dispose();
  }
}

const stats: DetectorStats = { calls: 0, skipped: 0, detectionFrames: 0, seconds: 0 };

/**
 * Copies of the last few seconds of detection frames, for looking back when a face is found late.
 * At most RECENT_BYTES (about 45 frames of 720p, 20 of 1080p): older ones go first.
 */
class RecentFrames {
  #frames: Array<{ t: number; frame: FrameBuffer }> = [];
  #spare: Uint8Array[] = [];
  constructor(readonly seconds: number) {}

  keep(t: number, frame: FrameBuffer): void {
    const size = frame.data.byteLength;
    let copy = this.#spare.pop();
    if (!copy || copy.byteLength !== size) copy = new Uint8Array(size);
    copy.set(frame.data);
    this.#frames.push({ t, frame: { ...frame, data: copy } });
    while (
      this.#frames.length > 0 &&
      (t - this.#frames[0]!.t > this.seconds || this.#frames.length * size > RECENT_BYTES)
    ) {
      this.#spare.push(this.#frames.shift()!.frame.data);
    }
  }

  /** Newest first. */
  newestFirst(): Array<{ t: number; frame: FrameBuffer }> {
    return [...this.#frames].reverse();
  }
}

/**
 * Follows new tracks back through the recent frames (a crop around where each was, frame by
 * frame backwards) until the face is lost twice running, so a face found late is masked from when
 * it was first visible. Returns the earlier sightings per track, earliest first.
 */
function lookBack(
  detector: FaceDetector,
  reader: FrameReader,
  recent: RecentFrames,
  tracks: readonly FaceTrack[],
): Array<{ track: FaceTrack; points: TrackPoint[] }> {
  const state = tracks.map((track) => ({
    track,
    box: track.points[0]!.box,
    misses: 0,
    points: [] as TrackPoint[],
  }));
  for (const { t, frame } of recent.newestFirst()) {
    const following = state.filter((s) => s.misses < 2);
    if (following.length === 0) break;
    const found = detectAround(
      detector,
      reader,
      frame,
      following.map((s) => s.box),
    );
    for (const s of following) {
      const best = found
        .filter((d) => bufferedIou(d.box, s.box) >= 0.2)
        .sort((a, b) => bufferedIou(b.box, s.box) - bufferedIou(a.box, s.box))[0];
      if (!best) {
        s.misses++;
        continue;
      }
      s.misses = 0;
      s.box = best.box;
      s.points.unshift({ t, box: best.box, score: best.score });
    }
  }
  return state.filter((s) => s.points.length > 0).map(({ track, points }) => ({ track, points }));
}

/** Candidates a closer look did not confirm, remembered for a while. */
class Rejections {
  #entries: Array<{ t: number; box: Box }> = [];
  constructor(readonly seconds: number) {}

  filter(t: number, candidates: readonly Detection[]): Detection[] {
    this.#entries = this.#entries.filter((entry) => t - entry.t < this.seconds);
    return candidates.filter((c) => !this.#entries.some((entry) => iou(entry.box, c.box) > 0.3));
  }

  add(t: number, candidates: readonly Detection[]): void {
    for (const candidate of candidates) this.#entries.push({ t, box: candidate.box });
  }
}

/** The pixels of frames being detected on, and the detector's 128×128 RGBA input. */
class FrameReader {
  #buffer = new Uint8Array(0);
  readonly input = new ImageData(MODEL_INPUT, MODEL_INPUT);

  /** The sample's pixels in its decoder's format (or RGBA when that is one we do not read). */
  async read(sample: VideoSample): Promise<FrameBuffer> {
    const frame = sample.toVideoFrame();
    try {
      const { width, height } = frame.visibleRect ?? {
        width: frame.codedWidth,
        height: frame.codedHeight,
      };
      const format = isFrameFormat(frame.format) ? frame.format : 'RGBA';
      const copyOptions: VideoFrameCopyToOptions =
        format === frame.format ? {} : { format: 'RGBA' };
      const size = frame.allocationSize(copyOptions);
      if (this.#buffer.byteLength < size) this.#buffer = new Uint8Array(size);
      const layout = await frame.copyTo(this.#buffer, copyOptions);
      return { format, width, height, data: this.#buffer, layout };
    } finally {
      frame.close();
    }
  }

  clear(): void {
    this.input.data.fill(0);
  }
}

function toFrameBox(
  box: { originX: number; originY: number; width: number; height: number },
  region: Tile,
  mapping: { scale: number; dx: number; dy: number },
  frame: FrameBuffer,
): Box {
  const x = region.x + (box.originX - mapping.dx) / mapping.scale;
  const y = region.y + (box.originY - mapping.dy) / mapping.scale;
  return {
    x: x / frame.width,
    y: y / frame.height,
    w: box.width / mapping.scale / frame.width,
    h: box.height / mapping.scale / frame.height,
  };
}

/**
 * What each scan tile looked like when it was last run through the detector. A tile whose picture
 * has not changed since cannot hold a face that was not there then (most of a fixed camera's view,
 * most of the time), so its scan is skipped — but never more than SKIPS_IN_A_ROW times running,
 * so a face the detector missed once is looked for again.
 */
class UnchangedTiles {
  readonly #last = new Map<number, { input: Uint8ClampedArray; skipped: number }>();

  /** Whether to skip the detector for this tile (by its number), given its freshly read input. */
  skip(tile: number, input: Uint8ClampedArray): boolean {
    const last = this.#last.get(tile);
    if (last && last.skipped < SKIPS_IN_A_ROW && !changedSince(last.input, input, MODEL_INPUT)) {
      last.skipped++;
      return true;
    }
    if (last) {
      last.input.set(input);
      last.skipped = 0;
    } else this.#last.set(tile, { input: input.slice(), skipped: 0 });
    return false;
  }
}

function detectTile(
  detector: FaceDetector,
  reader: FrameReader,
  frame: FrameBuffer,
  tile: Tile,
  index: number,
  unchanged: UnchangedTiles,
  counts: { calls: number; skipped: number },
): Detection[] {
  reader.clear();
  const mapping = readRegion(frame, tile, reader.input.data, MODEL_INPUT, {
    x: 0,
    y: 0,
    size: MODEL_INPUT,
  });
  if (unchanged.skip(index, reader.input.data)) {
    counts.skipped++;
    return [];
  }
  const found: Detection[] = [];
  counts.calls++;
  for (const detection of detector.detect(reader.input).detections) {
    const box = detection.boundingBox;
    if (!box) continue;
    found.push({
      box: toFrameBox(box, tile, mapping, frame),
      score: detection.categories[0]?.score ?? 0,
    });
  }
  return found;
}

/**
 * Detects on crops around the given boxes (known faces, or candidates to confirm), four to a call,
 * each crop in its own quarter of the input with the face at about a third of it.
 */
function detectAround(
  detector: FaceDetector,
  reader: FrameReader,
  frame: FrameBuffer,
  boxes: readonly Box[],
): Detection[] {
  const found: Detection[] = [];
  const cell = MODEL_INPUT / MOSAIC;
  const { width, height } = frame;
  for (let first = 0; first < boxes.length; first += MOSAIC * MOSAIC) {
    reader.clear();
    const placed = boxes.slice(first, first + MOSAIC * MOSAIC).map((box, i) => {
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
      return {
        region,
        into,
        mapping: readRegion(frame, region, reader.input.data, MODEL_INPUT, into),
      };
    });
    stats.calls++;
    for (const detection of detector.detect(reader.input).detections) {
      const box = detection.boundingBox;
      if (!box) continue;
      const cx = box.originX + box.width / 2;
      const cy = box.originY + box.height / 2;
      const home = placed.find(
        ({ into }) =>
          cx >= into.x && cx < into.x + into.size && cy >= into.y && cy < into.y + into.size,
      );
      if (!home) continue;
      found.push({
        box: toFrameBox(box, home.region, home.mapping, frame),
        score: detection.categories[0]?.score ?? 0,
      });
    }
  }
  return found;
}
