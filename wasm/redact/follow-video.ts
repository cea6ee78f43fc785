// Browser only: "follow this object" on a video, decoding frames with mediabunny (WebCodecs) and
// matching them with follow.ts. Only the search window of each frame is drawn and read back, at a
// scale where the object is a few dozen pixels wide, so following costs little more than decoding.
import { openInput } from './input.ts';
import { VideoSampleSink, type VideoSample } from 'mediabunny';
import {
  keyframePoints,
  lumaOf,
  ObjectFollower,
  type FollowOptions,
  type LumaView,
  type PixelBox,
} from './follow.ts';
import type { Box, MaskKeyframe } from './recipe.ts';

/** The template's larger side in working pixels: enough detail to match, little enough to be quick. */
const TEMPLATE_SIDE = 32;
/**
 * Keyframes keep the interpolated mask within this many working pixels of the followed path (about
 * 3% of the box's larger side; the recipe's padding covers far more), and come at least once a second.
 */
const KEYFRAME_TOLERANCE = 1;
const KEYFRAME_MOST_APART_SECONDS = 1;

export interface FollowRequest {
  /** The video: the file itself or an address the app serves it from. */
  source: Blob | string;
  /** Where the object is at the start: seconds, and its box in fractions of the frame. */
  start: { t: number; box: Box };
  /** Seconds: follow no further than this (the mask's end). */
  until: number;
  signal?: AbortSignal;
  /** Share of the way from start to `until` covered, 0..1. */
  onProgress?: (done: number) => void;
  options?: Partial<FollowOptions>;
}

export interface FollowResult {
  /** Keyframes from the start onwards, the first at `start.t` with the starting box. */
  keyframes: MaskKeyframe[];
  /** Seconds: the last frame where the object was found. */
  end: number;
  /** Why following stopped: it reached `until` (or the video's end), lost the object, or had nothing to follow. */
  reason: 'end' | 'lost' | 'featureless';
}

/** Follows the object in `start.box` forwards from `start.t`, frame by frame, until it is lost or `until`. */
export async function followObject(request: FollowRequest): Promise<FollowResult> {
  const { start, until, signal, onProgress } = request;
  signal?.throwIfAborted();
  const input = openInput(request.source);
  try {
    const track = await input.getPrimaryVideoTrack();
    if (!track) throw new Error('This file has no video to follow an object in.');
    if (!(await track.canDecode()))
      throw new Error('This browser cannot decode the video in this file.');
    const display = { width: track.displayWidth, height: track.displayHeight };
    const startPixels = Math.max(start.box.w * display.width, start.box.h * display.height);
    const scale = Math.min(1, TEMPLATE_SIDE / Math.max(1, startPixels));
    const frame = {
      width: Math.max(1, Math.round(display.width * scale)),
      height: Math.max(1, Math.round(display.height * scale)),
    };
    const reader = new RegionReader(display, frame);
    const sink = new VideoSampleSink(track);
    const toPixels = (box: Box): PixelBox => ({
      x: box.x * frame.width,
      y: box.y * frame.height,
      w: box.w * frame.width,
      h: box.h * frame.height,
    });
    const toFraction = (box: PixelBox): Box => ({
      x: box.x / frame.width,
      y: box.y / frame.height,
      w: box.w / frame.width,
      h: box.h / frame.height,
    });

    let follower: ObjectFollower | undefined;
    const path: Array<{ t: number; box: PixelBox }> = [];
    let reason: FollowResult['reason'] = 'end';
    const span = Math.max(1e-6, until - start.t);
    for await (const sample of sink.samples(start.t, until)) {
      try {
        signal?.throwIfAborted();
        if (!follower) {
          const box = toPixels(start.box);
          // A pixel more each way: the follower rounds the box to whole pixels.
          const around = { x: box.x - 1, y: box.y - 1, w: box.w + 2, h: box.h + 2 };
          follower = new ObjectFollower(reader.read(sample, around), box, frame, request.options);
          if (!follower.followable) {
            reason = 'featureless';
            break;
          }
          path.push({ t: start.t, box: follower.box });
          continue;
        }
        const step = follower.step(reader.read(sample, follower.region));
        if (step.lost) {
          reason = 'lost';
          break;
        }
        path.push({ t: sample.timestamp, box: step.box });
        onProgress?.(Math.min(1, (sample.timestamp - start.t) / span));
      } finally {
        sample.close();
      }
    }
    signal?.throwIfAborted();
    onProgress?.(1);
    const frameRate =
      path.length > 1 ? (path.length - 1) / Math.max(1e-6, path.at(-1)!.t - start.t) : 1;
    const kept = keyframePoints(
      path,
      KEYFRAME_TOLERANCE,
      Math.max(1, Math.round(frameRate * KEYFRAME_MOST_APART_SECONDS)),
    );
    const keyframes = kept.map(({ t, box }, i) =>
      i === 0 ? { t: start.t, box: { ...start.box } } : { t, box: clampToFrame(toFraction(box)) },
    );
    return { keyframes, end: path.at(-1)?.t ?? start.t, reason };
  } finally {
    input.dispose();
  }
}

function clampToFrame(box: Box): Box {
  const w = Math.min(1, box.w);
  const h = Math.min(1, box.h);
  return { x: Math.min(1 - w, Math.max(0, box.x)), y: Math.min(1 - h, Math.max(0, box.y)), w, h };
}

/** Draws one region of a decoded frame, scaled to working pixels, and reads back its luma. */
class RegionReader {
  readonly #canvas = new OffscreenCanvas(1, 1);
  readonly #context: OffscreenCanvasRenderingContext2D;
  readonly #scaleX: number;
  readonly #scaleY: number;
  readonly #frame: { width: number; height: number };

  constructor(
    display: { width: number; height: number },
    frame: { width: number; height: number },
  ) {
    this.#frame = frame;
    const context = this.#canvas.getContext('2d', { willReadFrequently: true });
    if (!context) throw new Error('This browser cannot draw video frames for following.');
    this.#context = context;
    this.#scaleX = display.width / frame.width;
    this.#scaleY = display.height / frame.height;
  }

  read(sample: VideoSample, region: PixelBox): LumaView {
    const x = Math.max(0, Math.floor(region.x));
    const y = Math.max(0, Math.floor(region.y));
    const width = Math.max(1, Math.min(this.#frame.width, Math.ceil(region.x + region.w)) - x);
    const height = Math.max(1, Math.min(this.#frame.height, Math.ceil(region.y + region.h)) - y);
    if (this.#canvas.width !== width || this.#canvas.height !== height) {
      this.#canvas.width = width;
      this.#canvas.height = height;
    }
    const g = this.#context;
    g.imageSmoothingQuality = 'medium';
    sample.draw(
      g,
      x * this.#scaleX,
      y * this.#scaleY,
      width * this.#scaleX,
      height * this.#scaleY,
      0,
      0,
      width,
      height,
    );
    const pixels = g.getImageData(0, 0, width, height).data;
    return { x, y, width, height, data: lumaOf(pixels, width, height) };
  }
}
