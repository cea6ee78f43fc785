// Browser-safe: following an object from a starting box by template matching, on luma the caller
// decodes (follow-video.ts in the browser, synthetic frames in the tests). Pixel coordinates here
// are in the caller's working scale; fractions of the frame belong to the caller.
//
// Normalised cross-correlation is insensitive to overall brightness and contrast, so a face walking
// into shade is still found; it does not follow changes of size or rotation, which the template's
// slow refresh absorbs only when they are gradual.

/** A region of a luma picture: `data` holds width × height values, row by row. */
export interface LumaView {
  /** Where the view's top-left pixel is in the whole frame. */
  x: number;
  y: number;
  width: number;
  height: number;
  data: Float32Array;
}

/** A box in working pixels. */
export interface PixelBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** The luma (BT.601) of RGBA pixels, as getImageData gives them. */
export function lumaOf(
  rgba: Uint8ClampedArray | Uint8Array,
  width: number,
  height: number,
): Float32Array {
  const out = new Float32Array(width * height);
  for (let i = 0, p = 0; i < out.length; i++, p += 4) {
    out[i] = 0.299 * rgba[p]! + 0.587 * rgba[p + 1]! + 0.114 * rgba[p + 2]!;
  }
  return out;
}

/** The part of `view` under `box` (whole pixels, inside the view), as a fresh view. */
export function crop(view: LumaView, box: PixelBox): LumaView {
  const x = Math.round(box.x);
  const y = Math.round(box.y);
  const width = Math.round(box.w);
  const height = Math.round(box.h);
  const data = new Float32Array(width * height);
  for (let row = 0; row < height; row++) {
    const from = (y - view.y + row) * view.width + (x - view.x);
    data.set(view.data.subarray(from, from + width), row * width);
  }
  return { x, y, width, height, data };
}

/** A template with its mean removed and its energy, ready for correlation. */
interface Prepared {
  width: number;
  height: number;
  centred: Float32Array;
  norm: number;
}

function prepare(template: LumaView): Prepared {
  const { data } = template;
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i]!;
  const mean = sum / data.length;
  const centred = new Float32Array(data.length);
  let energy = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]! - mean;
    centred[i] = v;
    energy += v * v;
  }
  return { width: template.width, height: template.height, centred, norm: Math.sqrt(energy) };
}

/**
 * Normalised cross-correlation of the template with the view at (left, top) in view pixels:
 * 1 for the same pattern (whatever its brightness and contrast), about 0 for an unrelated one,
 * 0 where either side is flat.
 */
function correlate(view: LumaView, template: Prepared, left: number, top: number): number {
  const { width, height, centred, norm } = template;
  let sum = 0;
  let sumSq = 0;
  let cross = 0;
  for (let row = 0; row < height; row++) {
    const base = (top + row) * view.width + left;
    const tBase = row * width;
    for (let col = 0; col < width; col++) {
      const v = view.data[base + col]!;
      sum += v;
      sumSq += v * v;
      cross += v * centred[tBase + col]!;
    }
  }
  const n = width * height;
  const variance = sumSq - (sum * sum) / n;
  // Σ(v - mean)·c = Σv·c, since the template's centred values sum to zero.
  if (variance <= 1e-6 || norm <= 1e-6) return 0;
  return cross / (Math.sqrt(variance) * norm);
}

/** A flat template (a wall, a sky) cannot be followed: nothing tells one position from another. */
export function hasTexture(template: LumaView, minStdDev = 2): boolean {
  const { norm, centred } = prepare(template);
  return norm / Math.sqrt(centred.length) >= minStdDev;
}

export interface Match {
  /** The template's top-left corner in frame pixels, to a fraction of a pixel. */
  x: number;
  y: number;
  /** Normalised cross-correlation there, -1..1. */
  score: number;
}

/**
 * Where the template best matches inside `view`, by trying every whole-pixel position and refining
 * the best one to a fraction of a pixel with a parabola through its neighbours' scores. Undefined
 * when the view is smaller than the template.
 */
export function bestMatch(view: LumaView, template: LumaView): Match | undefined {
  const prepared = prepare(template);
  const spanX = view.width - template.width;
  const spanY = view.height - template.height;
  if (spanX < 0 || spanY < 0) return undefined;
  const scores = new Float32Array((spanX + 1) * (spanY + 1));
  let best = -Infinity;
  let bestAt = 0;
  for (let top = 0; top <= spanY; top++) {
    for (let left = 0; left <= spanX; left++) {
      const score = correlate(view, prepared, left, top);
      const at = top * (spanX + 1) + left;
      scores[at] = score;
      if (score > best) {
        best = score;
        bestAt = at;
      }
    }
  }
  const left = bestAt % (spanX + 1);
  const top = Math.floor(bestAt / (spanX + 1));
  const score = (dx: number, dy: number) => scores[(top + dy) * (spanX + 1) + left + dx]!;
  const offsetX = left > 0 && left < spanX ? vertex(score(-1, 0), best, score(1, 0)) : 0;
  const offsetY = top > 0 && top < spanY ? vertex(score(0, -1), best, score(0, 1)) : 0;
  return { x: view.x + left + offsetX, y: view.y + top + offsetY, score: best };
}

/** Where a parabola through three equally spaced values peaks, relative to the middle one. */
function vertex(before: number, middle: number, after: number): number {
  const curvature = before - 2 * middle + after;
  if (curvature >= 0) return 0;
  return Math.max(-0.5, Math.min(0.5, (before - after) / (2 * curvature)));
}

export interface FollowOptions {
  /** Below this correlation the object is taken as lost and following stops. */
  minScore: number;
  /** How far beyond the predicted position to search, as a share of the box's larger side. */
  searchMargin: number;
  /** At least this many pixels of search each way, for small boxes. */
  minSearch: number;
  /** How much of each good match is blended into the template (0 never refreshes it). */
  refresh: number;
  /** Matches scoring at least this refresh the template; weaker ones might drift onto background. */
  refreshScore: number;
  /**
   * Also try the template this much smaller and larger each frame, so an object coming closer or
   * moving away keeps its box size (0 keeps the size fixed).
   */
  scaleStep: number;
  /** How much better (in correlation) a new size must match than the current one to be taken. */
  scaleBias: number;
  /** Smallest and largest template side in working pixels: detail below, cost above. */
  minSide: number;
  maxSide: number;
}

export const FOLLOW_DEFAULTS: FollowOptions = {
  minScore: 0.6,
  searchMargin: 0.5,
  minSearch: 6,
  refresh: 0.1,
  refreshScore: 0.8,
  scaleStep: 0.05,
  scaleBias: 0.01,
  minSide: 8,
  maxSide: 64,
};

export interface FollowStep {
  box: PixelBox;
  score: number;
  /** True when the match fell below `minScore`: `box` is the last good one and following stops. */
  lost: boolean;
}

/**
 * Follows one object frame by frame. Give it the first frame's luma and the object's box, ask it
 * which `region` of each next frame it needs, and `step` with that region's luma.
 */
export class ObjectFollower {
  readonly #frame: { width: number; height: number };
  readonly #options: FollowOptions;
  #template: LumaView;
  #box: PixelBox;
  #velocity = { x: 0, y: 0 };
  #lost = false;

  /**
   * @param first Luma of the first frame covering at least `box`.
   * @param box The object in the first frame (working pixels; rounded to whole pixels).
   * @param frame The whole frame's size in working pixels.
   */
  constructor(
    first: LumaView,
    box: PixelBox,
    frame: { width: number; height: number },
    options: Partial<FollowOptions> = {},
  ) {
    this.#frame = frame;
    this.#options = { ...FOLLOW_DEFAULTS, ...options };
    const whole = clampPixelBox(
      { x: Math.round(box.x), y: Math.round(box.y), w: Math.round(box.w), h: Math.round(box.h) },
      frame,
    );
    this.#box = whole;
    this.#template = crop(first, whole);
  }

  get box(): PixelBox {
    return { ...this.#box };
  }

  get lost(): boolean {
    return this.#lost;
  }

  /** Whether the starting box has enough detail to be followed at all. */
  get followable(): boolean {
    return hasTexture(this.#template);
  }

  /** The part of the next frame to search: around where the object is heading, inside the frame. */
  get region(): PixelBox {
    const { w, h } = this.#box;
    const margin = Math.max(
      this.#options.minSearch,
      Math.ceil(Math.max(w, h) * this.#options.searchMargin),
    );
    const predictedX = this.#box.x + this.#velocity.x;
    const predictedY = this.#box.y + this.#velocity.y;
    const left = Math.max(0, Math.floor(predictedX - margin));
    const top = Math.max(0, Math.floor(predictedY - margin));
    const right = Math.min(this.#frame.width, Math.ceil(predictedX + w + margin));
    const bottom = Math.min(this.#frame.height, Math.ceil(predictedY + h + margin));
    return { x: left, y: top, w: Math.max(0, right - left), h: Math.max(0, bottom - top) };
  }

  /** Finds the object in the next frame's `region` (see `region`). */
  step(view: LumaView): FollowStep {
    if (this.#lost) return { box: this.box, score: 0, lost: true };
    let best: { match: Match; template: LumaView; score: number } | undefined;
    for (const template of this.#candidates()) {
      const match = bestMatch(view, template);
      if (!match) continue;
      // A new size has to earn its place, or noise alone would make the box breathe.
      const score =
        template === this.#template ? match.score : match.score - this.#options.scaleBias;
      if (!best || score > best.score) best = { match, template, score };
    }
    if (!best || best.match.score < this.#options.minScore) {
      this.#lost = true;
      return { box: this.box, score: best?.match.score ?? 0, lost: true };
    }
    const { match, template } = best;
    const previous = this.#box;
    const box = { x: match.x, y: match.y, w: template.width, h: template.height };
    this.#velocity = {
      x: box.x + box.w / 2 - (previous.x + previous.w / 2),
      y: box.y + box.h / 2 - (previous.y + previous.h / 2),
    };
    this.#box = box;
    this.#template = template;
    if (this.#options.refresh > 0 && match.score >= this.#options.refreshScore) {
      this.#refresh(view, box);
    }
    return { box: { ...box }, score: match.score, lost: false };
  }

  /** The template as it is, and a little smaller and larger when sizes are followed. */
  #candidates(): LumaView[] {
    const template = this.#template;
    const candidates = [template];
    const step = this.#options.scaleStep;
    if (step <= 0) return candidates;
    for (const scale of [1 - step, 1 + step]) {
      const width = Math.round(template.width * scale);
      const height = Math.round(template.height * scale);
      const side = Math.max(width, height);
      if (width === template.width && height === template.height) continue;
      if (Math.min(width, height) < this.#options.minSide || side > this.#options.maxSide) continue;
      candidates.push(resample(template, width, height));
    }
    return candidates;
  }

  /** Blends the object as it looks now into the template, so slow changes of look are kept up with. */
  #refresh(view: LumaView, box: PixelBox) {
    const whole = {
      x: Math.round(box.x),
      y: Math.round(box.y),
      w: this.#template.width,
      h: this.#template.height,
    };
    if (
      whole.x < view.x ||
      whole.y < view.y ||
      whole.x + whole.w > view.x + view.width ||
      whole.y + whole.h > view.y + view.height
    ) {
      return;
    }
    const now = crop(view, whole);
    const k = this.#options.refresh;
    const data = this.#template.data;
    for (let i = 0; i < data.length; i++) data[i] = data[i]! * (1 - k) + now.data[i]! * k;
  }
}

/** The view resized to width × height by bilinear interpolation (its position kept). */
export function resample(view: LumaView, width: number, height: number): LumaView {
  const data = new Float32Array(width * height);
  const sx = view.width / width;
  const sy = view.height / height;
  for (let row = 0; row < height; row++) {
    const fy = Math.min(view.height - 1, Math.max(0, (row + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(view.height - 1, y0 + 1);
    const ky = fy - y0;
    for (let col = 0; col < width; col++) {
      const fx = Math.min(view.width - 1, Math.max(0, (col + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(view.width - 1, x0 + 1);
      const kx = fx - x0;
      const top =
        view.data[y0 * view.width + x0]! * (1 - kx) + view.data[y0 * view.width + x1]! * kx;
      const bottom =
        view.data[y1 * view.width + x0]! * (1 - kx) + view.data[y1 * view.width + x1]! * kx;
      data[row * width + col] = top * (1 - ky) + bottom * ky;
    }
  }
  return { x: view.x, y: view.y, width, height, data };
}

function clampPixelBox(box: PixelBox, frame: { width: number; height: number }): PixelBox {
  const w = Math.max(1, Math.min(frame.width, box.w));
  const h = Math.max(1, Math.min(frame.height, box.h));
  return {
    x: Math.max(0, Math.min(frame.width - w, box.x)),
    y: Math.max(0, Math.min(frame.height - h, box.y)),
    w,
    h,
  };
}

/** One followed position: a time in seconds and a box (in whatever units the caller uses). */
export interface PathPoint<B> {
  t: number;
  /** Its position; its size too, when it has one that changes. */
  box: B & { x: number; y: number; w?: number; h?: number };
}

/**
 * The points of a followed path worth keeping as keyframes: as few as keep every point of the path
 * within `tolerance` of the line interpolated between the kept ones (Ramer–Douglas–Peucker over
 * time), so a turn, a stop or a start keeps a keyframe and a steady glide needs none; and no more
 * than `maxGap` points apart, so a long glide still has keyframes to adjust.
 */
export function keyframePoints<B>(
  path: ReadonlyArray<PathPoint<B>>,
  tolerance: number,
  maxGap = Infinity,
): Array<PathPoint<B>> {
  if (path.length <= 2) return [...path];
  const keep = new Uint8Array(path.length);
  keep[0] = 1;
  keep[path.length - 1] = 1;
  const pending: Array<[number, number]> = [[0, path.length - 1]];
  while (pending.length > 0) {
    const [first, last] = pending.pop()!;
    const a = path[first]!;
    const b = path[last]!;
    let worst = -1;
    let worstAt = -1;
    for (let i = first + 1; i < last; i++) {
      const p = path[i]!;
      const k = b.t === a.t ? 0 : (p.t - a.t) / (b.t - a.t);
      const miss = (key: 'x' | 'y' | 'w' | 'h') => {
        const [va, vb, vp] = [a.box[key], b.box[key], p.box[key]];
        return va === undefined || vb === undefined || vp === undefined
          ? 0
          : Math.abs(vp - (va + (vb - va) * k));
      };
      const off = Math.max(miss('x'), miss('y'), miss('w'), miss('h'));
      if (off > worst) {
        worst = off;
        worstAt = i;
      }
    }
    if (worstAt === -1) continue;
    if (worst > tolerance || last - first > maxGap) {
      // Split at the worst point, or in the middle when only the gap is too long.
      const at = worst > tolerance ? worstAt : (first + last) >> 1;
      keep[at] = 1;
      pending.push([first, at], [at, last]);
    }
  }
  return path.filter((_, i) => keep[i] === 1);
}
