// Browser-safe: reads a region of a decoded frame into the detector's RGBA input, scaled down by
// averaging, straight from the frame's planes (I420, NV12 or RGB). Drawing a VideoFrame region onto
// a canvas converts the whole frame first (about 27 ms per tile at 720p in a worker here); this
// converts only the pixels the detector sees.
import type { FrameBuffer } from './raster.ts';

export interface Region {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Most samples averaged per output pixel along each axis (16 in all). */
const MOST_SAMPLES = 4;

function clampByte(value: number): number {
  return value < 0 ? 0 : value > 255 ? 255 : value;
}

/**
 * Paints `region` of the frame into `out` (RGBA, `outWidth` wide) at `into`, keeping its aspect
 * (letterboxed inside the square `into.size`). Returns how output pixels map back to the frame.
 */
export function readRegion(
  frame: FrameBuffer,
  region: Region,
  out: Uint8ClampedArray,
  outWidth: number,
  into: { x: number; y: number; size: number },
): { scale: number; dx: number; dy: number } {
  const scale = into.size / Math.max(region.w, region.h);
  const dw = Math.max(1, Math.round(region.w * scale));
  const dh = Math.max(1, Math.round(region.h * scale));
  const dx = into.x + Math.floor((into.size - dw) / 2);
  const dy = into.y + Math.floor((into.size - dh) / 2);
  const footprint = 1 / scale;
  const n = Math.min(MOST_SAMPLES, Math.max(1, Math.ceil(footprint)));
  const { data, layout, width, height } = frame;
  const yuv = frame.format === 'I420' || frame.format === 'I420A' || frame.format === 'NV12';
  const nv12 = frame.format === 'NV12';
  const bgr = frame.format === 'BGRA' || frame.format === 'BGRX';
  const p0 = layout[0]!;
  const p1 = layout[1];
  const p2 = layout[2];
  // Sample offsets inside one output pixel's footprint, in frame pixels.
  const offsets = Array.from({ length: n }, (_, k) => ((k + 0.5) / n) * footprint);
  const count = n * n;
  for (let j = 0; j < dh; j++) {
    const row = (dy + j) * outWidth;
    const top = region.y + j * footprint;
    for (let i = 0; i < dw; i++) {
      const left = region.x + i * footprint;
      let a = 0;
      let b = 0;
      let c = 0;
      for (let sy = 0; sy < n; sy++) {
        const y = Math.min(height - 1, Math.max(0, Math.floor(top + offsets[sy]!)));
        for (let sx = 0; sx < n; sx++) {
          const x = Math.min(width - 1, Math.max(0, Math.floor(left + offsets[sx]!)));
          if (yuv) {
            a += data[p0.offset + y * p0.stride + x]!;
            const cx = x >> 1;
            const cy = y >> 1;
            if (nv12) {
              const at = p1!.offset + cy * p1!.stride + cx * 2;
              b += data[at]!;
              c += data[at + 1]!;
            } else {
              b += data[p1!.offset + cy * p1!.stride + cx]!;
              c += data[p2!.offset + cy * p2!.stride + cx]!;
            }
          } else {
            const at = p0.offset + y * p0.stride + x * 4;
            a += data[at]!;
            b += data[at + 1]!;
            c += data[at + 2]!;
          }
        }
      }
      a /= count;
      b /= count;
      c /= count;
      const o = (row + dx + i) * 4;
      if (yuv) {
        // BT.601 limited range to RGB.
        const luma = 1.164 * (a - 16);
        out[o] = clampByte(luma + 1.596 * (c - 128));
        out[o + 1] = clampByte(luma - 0.813 * (c - 128) - 0.391 * (b - 128));
        out[o + 2] = clampByte(luma + 2.018 * (b - 128));
      } else if (bgr) {
        out[o] = c;
        out[o + 1] = b;
        out[o + 2] = a;
      } else {
        out[o] = a;
        out[o + 1] = b;
        out[o + 2] = c;
      }
      out[o + 3] = 255;
    }
  }
  return { scale, dx, dy };
}

/** Side of the squares `changedSince` compares, in detector input pixels. */
const CHANGE_BLOCK = 16;
/** Mean difference per channel in one square (0-255) above which the picture counts as changed. */
const CHANGE_THRESHOLD = 4;

/**
 * Whether anything moved between two detector inputs (RGBA, `size` × `size`) of the same tile: a
 * face that was not there before changes at least one 16-pixel square of the input by more than
 * compression noise does, even when it covers 2% of the tile (the mean over the whole tile
 * would hardly move).
 */
export function changedSince(
  previous: Uint8ClampedArray,
  current: Uint8ClampedArray,
  size: number,
): boolean {
  for (let by = 0; by < size; by += CHANGE_BLOCK) {
    for (let bx = 0; bx < size; bx += CHANGE_BLOCK) {
      let sum = 0;
      let count = 0;
      for (let y = by; y < Math.min(size, by + CHANGE_BLOCK); y++) {
        let at = (y * size + bx) * 4;
        for (let x = bx; x < Math.min(size, bx + CHANGE_BLOCK); x++, at += 4) {
          sum +=
            Math.abs(current[at]! - previous[at]!) +
            Math.abs(current[at + 1]! - previous[at + 1]!) +
            Math.abs(current[at + 2]! - previous[at + 2]!);
          count += 3;
        }
      }
      if (sum / count > CHANGE_THRESHOLD) return true;
    }
  }
  return false;
}
