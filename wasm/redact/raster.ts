// Browser-safe: paints masks straight into a decoded frame's planes (I420, NV12 or RGB), so a frame
// goes from the decoder to the encoder without a canvas round trip.
//
// Blur and pixelate both first average the pixels under the mask in blocks (the block is a share of
// the mask's size set by the strength). Pixelate paints each block's average; blur interpolates
// between block averages, a smooth picture with no detail finer than a block. Either way the
// original pixels are not recoverable from the result, unlike a light Gaussian blur.
import type { MaskGeometry } from './geometry.ts';
import type { MaskStyle } from './recipe.ts';

export const FRAME_FORMATS = ['I420', 'I420A', 'NV12', 'RGBA', 'RGBX', 'BGRA', 'BGRX'] as const;
export type FrameFormat = (typeof FRAME_FORMATS)[number];

export interface PlaneLayout {
  offset: number;
  stride: number;
}

export interface FrameBuffer {
  format: FrameFormat;
  width: number;
  height: number;
  data: Uint8Array;
  layout: readonly PlaneLayout[];
}

interface Plane {
  offset: number;
  stride: number;
  /** How many frame pixels one plane sample spans, across and down. */
  subX: number;
  subY: number;
  /** Interleaved components per sample (1 for Y, 2 for NV12's UV, 4 for RGBA). */
  components: number;
  /** The fill value of each component. */
  fill: number[];
}

export function isFrameFormat(format: string | null): format is FrameFormat {
  return (FRAME_FORMATS as readonly string[]).includes(format ?? '');
}

function parseColor(color: string): [number, number, number] {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  if (!match) return [0, 0, 0];
  return [parseInt(match[1]!, 16), parseInt(match[2]!, 16), parseInt(match[3]!, 16)];
}

/** BT.601 limited range, what H.264 from cameras almost always is. */
function toYuv([r, g, b]: [number, number, number]): [number, number, number] {
  const y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255;
  const u = 128 + (-37.797 * r - 74.203 * g + 112 * b) / 255;
  const v = 128 + (112 * r - 93.786 * g - 18.214 * b) / 255;
  return [Math.round(y), Math.round(u), Math.round(v)];
}

function planesOf(frame: FrameBuffer, color: string): Plane[] {
  const rgb = parseColor(color);
  const [y, u, v] = toYuv(rgb);
  const layout = frame.layout;
  const plane = (
    i: number,
    subX: number,
    subY: number,
    components: number,
    fill: number[],
  ): Plane => {
    const l = layout[i];
    if (!l) throw new RangeError(`a ${frame.format} frame needs plane ${i} in its layout`);
    return { offset: l.offset, stride: l.stride, subX, subY, components, fill };
  };
  switch (frame.format) {
    case 'I420':
    case 'I420A':
      return [plane(0, 1, 1, 1, [y]), plane(1, 2, 2, 1, [u]), plane(2, 2, 2, 1, [v])];
    case 'NV12':
      return [plane(0, 1, 1, 1, [y]), plane(1, 2, 2, 2, [u, v])];
    case 'RGBA':
    case 'RGBX':
      return [plane(0, 1, 1, 4, [rgb[0], rgb[1], rgb[2], 255])];
    case 'BGRA':
    case 'BGRX':
      return [plane(0, 1, 1, 4, [rgb[2], rgb[1], rgb[0], 255])];
  }
}

/** Which frame pixels of a rectangle lie inside the mask's shape (1 inside), row by row. */
function shapeCoverage(
  geometry: MaskGeometry,
  x0: number,
  y0: number,
  w: number,
  h: number,
  W: number,
  H: number,
) {
  const inside = new Uint8Array(w * h);
  if (geometry.shape === 'rectangle') {
    inside.fill(1);
    return inside;
  }
  if (geometry.shape === 'ellipse') {
    const cx = (geometry.box.x + geometry.box.w / 2) * W;
    const cy = (geometry.box.y + geometry.box.h / 2) * H;
    const rx = (geometry.box.w / 2) * W;
    const ry = (geometry.box.h / 2) * H;
    for (let j = 0; j < h; j++) {
      const dy = (y0 + j + 0.5 - cy) / ry;
      const reach = 1 - dy * dy;
      if (reach < 0) continue;
      const half = Math.sqrt(reach) * rx;
      const from = Math.max(0, Math.ceil(cx - half - 0.5) - x0);
      const to = Math.min(w, Math.floor(cx + half - 0.5) - x0 + 1);
      if (to > from) inside.fill(1, j * w + from, j * w + to);
    }
    return inside;
  }
  // Polygon: even-odd rule along each row's centre line.
  if (geometry.shape !== 'polygon') return inside;
  const points = geometry.points.map(([px, py]) => [px * W, py * H] as const);
  const crossings: number[] = [];
  for (let j = 0; j < h; j++) {
    const y = y0 + j + 0.5;
    crossings.length = 0;
    for (let i = 0, k = points.length - 1; i < points.length; k = i++) {
      const [ax, ay] = points[i]!;
      const [bx, by] = points[k]!;
      if (ay > y !== by > y) crossings.push(ax + ((y - ay) * (bx - ax)) / (by - ay));
    }
    crossings.sort((a, b) => a - b);
    for (let c = 0; c + 1 < crossings.length; c += 2) {
      const from = Math.max(0, Math.ceil(crossings[c]! - 0.5) - x0);
      const to = Math.min(w, Math.floor(crossings[c + 1]! - 0.5) - x0 + 1);
      if (to > from) inside.fill(1, j * w + from, j * w + to);
    }
  }
  return inside;
}

/** Block size in frame pixels for a mask of this size at this strength (1..100). */
export function blockSize(maskWidth: number, maskHeight: number, strength: number): number {
  const share = 0.04 + (Math.min(100, Math.max(1, strength)) / 100) * 0.21;
  return Math.max(2, Math.round(Math.min(maskWidth, maskHeight) * share));
}

/** Paints every mask into the frame's pixels, in place. */
export function paintMasks(
  frame: FrameBuffer,
  masks: readonly MaskGeometry[],
  style: MaskStyle,
): void {
  if (masks.length === 0) return;
  const planes = planesOf(frame, style.color);
  const W = frame.width;
  const H = frame.height;
  for (const geometry of masks) {
    const x0 = Math.max(0, Math.floor(geometry.box.x * W));
    const y0 = Math.max(0, Math.floor(geometry.box.y * H));
    const x1 = Math.min(W, Math.ceil((geometry.box.x + geometry.box.w) * W));
    const y1 = Math.min(H, Math.ceil((geometry.box.y + geometry.box.h) * H));
    if (x1 <= x0 || y1 <= y0) continue;
    const w = x1 - x0;
    const h = y1 - y0;
    const inside = shapeCoverage(geometry, x0, y0, w, h, W, H);
    const block = blockSize(geometry.box.w * W, geometry.box.h * H, style.strength);
    for (const plane of planes) paintPlane(frame.data, plane, inside, x0, y0, w, h, block, style);
  }
}

/**
 * Calls `run(start, end)` for each stretch of consecutive inside samples in a mask row (an ellipse
 * or a rectangle has one per row), so painting needs no test per pixel.
 */
function forEachRun(
  mask: Uint8Array,
  row: number,
  width: number,
  run: (start: number, end: number) => void,
): void {
  let i = 0;
  while (i < width) {
    while (i < width && mask[row + i] === 0) i++;
    const start = i;
    while (i < width && mask[row + i] === 1) i++;
    if (i > start) run(start, i);
  }
}

function paintPlane(
  data: Uint8Array,
  plane: Plane,
  inside: Uint8Array,
  x0: number,
  y0: number,
  w: number,
  h: number,
  block: number,
  style: MaskStyle,
): void {
  const { subX, subY, components: n, stride, offset } = plane;
  // The plane samples whose centres fall in the rectangle, and which of them are inside the shape
  // (the shape is sampled at each plane sample's centre).
  const px0 = Math.floor(x0 / subX);
  const py0 = Math.floor(y0 / subY);
  const pw = Math.ceil((x0 + w) / subX) - px0;
  const ph = Math.ceil((y0 + h) / subY) - py0;
  let mask = inside;
  if (subX !== 1 || subY !== 1) {
    mask = new Uint8Array(pw * ph);
    const columns = new Int32Array(pw);
    for (let i = 0; i < pw; i++)
      columns[i] = Math.min(w - 1, Math.max(0, Math.floor((px0 + i + 0.5) * subX) - x0));
    for (let j = 0; j < ph; j++) {
      const row = Math.min(h - 1, Math.max(0, Math.floor((py0 + j + 0.5) * subY) - y0)) * w;
      for (let i = 0; i < pw; i++) mask[j * pw + i] = inside[row + columns[i]!]!;
    }
  }
  if (style.kind === 'fill') {
    for (let j = 0; j < ph; j++) {
      const base = offset + (py0 + j) * stride + px0 * n;
      forEachRun(mask, j * pw, pw, (start, end) => {
        if (n === 1) data.fill(plane.fill[0]!, base + start, base + end);
        else
          for (let i = start; i < end; i++)
            for (let c = 0; c < n; c++) data[base + i * n + c] = plane.fill[c]!;
      });
    }
    return;
  }
  const b = Math.max(1, Math.round(block / subX));
  // A strip narrower than a block left at the far edge joins the block beside it: on its own, a
  // block one pixel wide averages almost nothing (a corner pixel kept as it was), and one narrower
  // than the sample spacing below got no samples at all (painted 0, black or green).
  const gw = Math.max(1, Math.floor(pw / b));
  const gh = Math.max(1, Math.floor(ph / b));
  // Block averages, per component, from a sparse grid of samples (at least 4×4 per block): the
  // averages only need to be representative, and reading every pixel doubled the cost.
  const means = new Float32Array(gw * gh * n);
  const counts = new Uint32Array(gw * gh);
  const skip = Math.max(1, Math.floor(b / 4));
  const cellOf = new Int32Array(pw);
  for (let i = 0; i < pw; i++) cellOf[i] = Math.min(gw - 1, (i / b) | 0);
  for (let j = skip >> 1; j < ph; j += skip) {
    const base = offset + (py0 + j) * stride + px0 * n;
    const cellRow = Math.min(gh - 1, (j / b) | 0) * gw;
    for (let i = skip >> 1; i < pw; i += skip) {
      const cell = cellRow + cellOf[i]!;
      counts[cell]!++;
      if (n === 1) means[cell]! += data[base + i]!;
      else for (let c = 0; c < n; c++) means[cell * n + c]! += data[base + i * n + c]!;
    }
  }
  for (let cell = 0; cell < gw * gh; cell++) {
    const count = counts[cell]! || 1;
    for (let c = 0; c < n; c++) means[cell * n + c]! /= count;
  }
  if (style.kind === 'pixelate') {
    for (let j = 0; j < ph; j++) {
      const base = offset + (py0 + j) * stride + px0 * n;
      const cellRow = Math.min(gh - 1, (j / b) | 0) * gw;
      forEachRun(mask, j * pw, pw, (start, end) => {
        for (let i = start; i < end;) {
          // Up to the end of this block (or of the run), one value per component.
          const cell = cellRow + cellOf[i]!;
          let next = i + 1;
          while (next < end && cellOf[next] === cellOf[i]) next++;
          if (n === 1) data.fill(means[cell]!, base + i, base + next);
          else
            for (let k = i; k < next; k++)
              for (let c = 0; c < n; c++) data[base + k * n + c] = means[cell * n + c]!;
          i = next;
        }
      });
    }
    return;
  }
  // Blur: bilinear between the centres of the four nearest blocks; weights per column and row
  // worked out once.
  const left = new Int32Array(pw);
  const right = new Int32Array(pw);
  const across = new Float32Array(pw);
  for (let i = 0; i < pw; i++) {
    const f = Math.min(gw - 1, Math.max(0, (i + 0.5) / b - 0.5));
    left[i] = Math.floor(f);
    right[i] = Math.min(gw - 1, left[i]! + 1);
    across[i] = f - left[i]!;
  }
  // Each row of blocks interpolated across once (gh × pw values), so a pixel costs one
  // interpolation down.
  const rows = new Float32Array(gh * pw * n);
  for (let g = 0; g < gh; g++) {
    for (let i = 0; i < pw; i++) {
      const k = across[i]!;
      const a = (g * gw + left[i]!) * n;
      const z = (g * gw + right[i]!) * n;
      for (let c = 0; c < n; c++)
        rows[(g * pw + i) * n + c] = means[a + c]! + (means[z + c]! - means[a + c]!) * k;
    }
  }
  for (let j = 0; j < ph; j++) {
    const f = Math.min(gh - 1, Math.max(0, (j + 0.5) / b - 0.5));
    const top = Math.floor(f) * pw * n;
    const bottom = Math.min(gh - 1, Math.floor(f) + 1) * pw * n;
    const down = f - Math.floor(f);
    const base = offset + (py0 + j) * stride + px0 * n;
    forEachRun(mask, j * pw, pw, (start, end) => {
      for (let at = start * n; at < end * n; at++) {
        const upper = rows[top + at]!;
        data[base + at] = upper + (rows[bottom + at]! - upper) * down;
      }
    });
  }
}
