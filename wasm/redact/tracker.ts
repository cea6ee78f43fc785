// Browser-safe: links face detections over time into tracks, ByteTrack-style.
//
// Each detection frame, every live track's box is predicted at that time (constant velocity from
// its last two sightings). Confident detections are matched to predictions first, by overlap
// (IoU); the remaining tracks then get a second chance with the weak detections — a face turning
// away or blurred by motion scores low, and dropping those would break its track. What is left
// over is returned as candidates; the caller confirms them (detection-worker.ts looks again, closer)
// before starting tracks with them. A track missing for
// longer than `maxGap` seconds ends. Points are only ever appended, in time order, so a reader can
// use a track while it is still growing (the renderer does, a few seconds behind the detector).
import type { Box, FaceTrack, TrackPoint } from './recipe.ts';

export interface Detection {
  /** Fractions of the frame. */
  box: Box;
  score: number;
}

export interface TrackerOptions {
  /** Detections at or above this score are confident: they may start tracks. */
  highScore: number;
  /** Weaker detections are only used to continue tracks. */
  lowScore: number;
  /** Overlap (buffered IoU) needed to match a prediction, first pass and second pass. */
  matchIou: number;
  lowMatchIou: number;
  /** Seconds a track may go unseen before it ends. */
  maxGap: number;
}

export const DEFAULT_TRACKER: TrackerOptions = {
  highScore: 0.45,
  lowScore: 0.15,
  matchIou: 0.2,
  lowMatchIou: 0.3,
  maxGap: 1.5,
};

export function iou(a: Box, b: Box): number {
  const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const overlap = w * h;
  return overlap / (a.w * a.h + b.w * b.h - overlap);
}

/**
 * IoU of the two boxes each grown twofold about its centre ("buffered" IoU): a small face moving
 * fast can be clear of where its track predicted it and still be the same face.
 */
export function bufferedIou(a: Box, b: Box): number {
  const grow = (box: Box) => ({
    x: box.x - box.w / 2,
    y: box.y - box.h / 2,
    w: box.w * 2,
    h: box.h * 2,
  });
  return iou(grow(a), grow(b));
}

/** Share of `inner` covered by `outer`. */
export function coverage(inner: Box, outer: Box): number {
  const w = Math.min(inner.x + inner.w, outer.x + outer.w) - Math.max(inner.x, outer.x);
  const h = Math.min(inner.y + inner.h, outer.y + outer.h) - Math.max(inner.y, outer.y);
  if (w <= 0 || h <= 0) return 0;
  return (w * h) / (inner.w * inner.h);
}

/**
 * Non-maximum suppression across tiles and scales: of boxes that overlap (IoU above `threshold`,
 * or one mostly inside the other), the best-scoring stays.
 */
export function suppress(detections: readonly Detection[], threshold = 0.3): Detection[] {
  const sorted = [...detections].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const candidate of sorted) {
    const duplicate = kept.some(
      (k) =>
        iou(k.box, candidate.box) > threshold ||
        coverage(candidate.box, k.box) > 0.7 ||
        coverage(k.box, candidate.box) > 0.7,
    );
    if (!duplicate) kept.push(candidate);
  }
  return kept;
}

interface LiveTrack {
  track: FaceTrack;
  lastSeen: number;
}

export class FaceTracker {
  readonly #options: TrackerOptions;
  readonly #tracks: FaceTrack[] = [];
  #live: LiveTrack[] = [];
  #next = 1;
  #time = -Infinity;

  constructor(options: Partial<TrackerOptions> = {}) {
    this.#options = { ...DEFAULT_TRACKER, ...options };
  }

  /** Every track so far, ended or live. Arrays grow in place. */
  get tracks(): readonly FaceTrack[] {
    return this.#tracks;
  }

  /** Where each live track is expected at `t`, for re-detecting it on a crop. */
  predictions(t: number): Array<{ id: string; box: Box }> {
    return this.#live.map(({ track }) => ({ id: track.id, box: predict(track, t) }));
  }

  /**
   * Continues tracks with the detections of one frame (time `t`, later than the previous call).
   * Returns the detections no track took, strongest first: candidates for new tracks, which the
   * caller confirms (or not) and passes to `start`.
   */
  update(t: number, detections: readonly Detection[]): Detection[] {
    if (t <= this.#time)
      throw new RangeError(`detections must come in time order (${t} after ${this.#time})`);
    this.#time = t;
    const options = this.#options;
    this.#live = this.#live.filter((live) => t - live.lastSeen <= options.maxGap);
    const high = detections.filter((d) => d.score >= options.highScore);
    const low = detections.filter(
      (d) => d.score >= options.lowScore && d.score < options.highScore,
    );
    const predicted = this.#live.map((live) => ({ live, box: predict(live.track, t) }));
    const used = new Set<Detection>();
    const sighting = (live: LiveTrack, detection: Detection) => {
      live.track.points.push({ t, box: detection.box, score: detection.score });
      live.lastSeen = t;
    };
    const unmatchedTracks = match(predicted, high, options.matchIou, used, sighting);
    match(unmatchedTracks, low, options.lowMatchIou, used, sighting);
    return detections
      .filter((d) => !used.has(d) && d.score >= options.lowScore)
      .sort((a, b) => b.score - a.score);
  }

  /**
   * Starts a track at each detection (made at the time of the last `update`), unless it is a face
   * a live track already has (seen again from another tile or crop).
   */
  start(detections: readonly Detection[]): FaceTrack[] {
    const t = this.#time;
    // Before any update a track would start at -Infinity, which JSON stores as null.
    if (t === -Infinity) {
      throw new RangeError('start() takes detections made at an update(); there was none yet');
    }
    const started: FaceTrack[] = [];
    for (const detection of detections) {
      const taken = this.#live.some(({ track }) => {
        const box = predict(track, t);
        return (
          iou(box, detection.box) > 0.2 ||
          coverage(detection.box, box) > 0.5 ||
          coverage(box, detection.box) > 0.5
        );
      });
      if (taken) continue;
      const track: FaceTrack = {
        id: `t${this.#next++}`,
        points: [{ t, box: detection.box, score: detection.score }],
      };
      this.#tracks.push(track);
      this.#live.push({ track, lastSeen: t });
      started.push(track);
    }
    return started;
  }

  /**
   * Adds sightings before a track's first (found by looking back through recent frames once the
   * track was found), earliest first.
   */
  prepend(track: FaceTrack, points: readonly TrackPoint[]): void {
    const first = track.points[0];
    if (
      points.some(
        (point, i) => (first && point.t >= first.t) || (i > 0 && point.t <= points[i - 1]!.t),
      )
    ) {
      throw new RangeError('earlier sightings must come before the track, in time order');
    }
    track.points.unshift(...points);
  }
}

/** Greedy matching by IoU, best pairs first. Returns the predictions left unmatched. */
function match(
  predicted: Array<{ live: LiveTrack; box: Box }>,
  detections: readonly Detection[],
  threshold: number,
  used: Set<Detection>,
  onMatch: (live: LiveTrack, detection: Detection) => void,
): Array<{ live: LiveTrack; box: Box }> {
  const pairs: Array<{ p: number; d: number; overlap: number }> = [];
  predicted.forEach((prediction, p) => {
    detections.forEach((detection, d) => {
      if (used.has(detection)) return;
      const overlap = bufferedIou(prediction.box, detection.box);
      if (overlap >= threshold) pairs.push({ p, d, overlap });
    });
  });
  pairs.sort((a, b) => b.overlap - a.overlap);
  const usedPredictions = new Set<number>();
  for (const { p, d } of pairs) {
    const detection = detections[d]!;
    if (usedPredictions.has(p) || used.has(detection)) continue;
    usedPredictions.add(p);
    used.add(detection);
    onMatch(predicted[p]!.live, detection);
  }
  return predicted.filter((_, p) => !usedPredictions.has(p));
}

/** The track's box moved on at its recent velocity to time `t` (size kept). */
export function predict(track: FaceTrack, t: number): Box {
  const points = track.points;
  const last = points[points.length - 1]!;
  const previous = findPrevious(points, last);
  if (!previous) return last.box;
  const dt = last.t - previous.t;
  const ahead = Math.min(t - last.t, 1);
  const vx = (last.box.x + last.box.w / 2 - (previous.box.x + previous.box.w / 2)) / dt;
  const vy = (last.box.y + last.box.h / 2 - (previous.box.y + previous.box.h / 2)) / dt;
  return { ...last.box, x: last.box.x + vx * ahead, y: last.box.y + vy * ahead };
}

/** A sighting far enough back to measure velocity over (at least 0.05 s). */
function findPrevious(points: readonly TrackPoint[], last: TrackPoint): TrackPoint | undefined {
  for (let i = points.length - 2; i >= 0; i--) {
    if (last.t - points[i]!.t >= 0.05) return points[i];
  }
  return undefined;
}
