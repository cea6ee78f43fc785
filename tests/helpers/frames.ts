// Decoded frames for the redaction engine's tests: planes laid out with padding after every row and
// stray bytes around them, so code that ignores a layout's offsets and strides is caught.
import * as assert from 'uvu/assert';
import type { FrameBuffer, FrameFormat } from '../../wasm/redact/raster.ts';

/** One plane as the test lays it out: samples, not frame pixels. */
export interface PlaneSpec {
  offset: number;
  stride: number;
  columns: number;
  rows: number;
  /** Interleaved components per sample. */
  n: number;
  /** Frame pixels per sample, across and down. */
  sub: number;
}

/** Bytes in front of the first plane and after every row, which nothing may write. */
const PREFIX = 7;
export const SENTINEL = 0xab;

/**
 * A frame in `format` whose plane samples come from `value` (plane, column, row, component), with
 * padding after each row and the planes stored in reverse order after a few stray bytes, so a
 * painter that ignores the layout writes where it should not.
 */
export function makeFrame(
  format: FrameFormat,
  width: number,
  height: number,
  value: (plane: number, x: number, y: number, c: number) => number,
): { frame: FrameBuffer; planes: PlaneSpec[] } {
  const cw = Math.ceil(width / 2);
  const ch = Math.ceil(height / 2);
  const shapes: Array<Omit<PlaneSpec, 'offset' | 'stride'>> =
    format === 'I420' || format === 'I420A'
      ? [
          { columns: width, rows: height, n: 1, sub: 1 },
          { columns: cw, rows: ch, n: 1, sub: 2 },
          { columns: cw, rows: ch, n: 1, sub: 2 },
        ]
      : format === 'NV12'
        ? [
            { columns: width, rows: height, n: 1, sub: 1 },
            { columns: cw, rows: ch, n: 2, sub: 2 },
          ]
        : [{ columns: width, rows: height, n: 4, sub: 1 }];
  const planes: PlaneSpec[] = [];
  let offset = PREFIX;
  for (const shape of [...shapes].reverse()) {
    const stride = shape.columns * shape.n + 5;
    planes.unshift({ ...shape, offset, stride });
    offset += stride * shape.rows;
  }
  const data = new Uint8Array(offset + 3).fill(SENTINEL);
  planes.forEach((plane, p) => {
    for (let y = 0; y < plane.rows; y++) {
      for (let x = 0; x < plane.columns; x++) {
        for (let c = 0; c < plane.n; c++) {
          data[plane.offset + y * plane.stride + x * plane.n + c] = value(p, x, y, c);
        }
      }
    }
  });
  const layout = planes.map(({ offset, stride }) => ({ offset, stride }));
  return { frame: { format, width, height, data, layout }, planes };
}

export function sample(frame: FrameBuffer, plane: PlaneSpec, x: number, y: number, c = 0): number {
  return frame.data[plane.offset + y * plane.stride + x * plane.n + c]!;
}

/** Every byte that is not a sample of some plane (padding, stray bytes) still holds the sentinel. */
export function paddingUntouched(frame: FrameBuffer, planes: PlaneSpec[]): void {
  const isSample = new Uint8Array(frame.data.byteLength);
  for (const plane of planes) {
    for (let y = 0; y < plane.rows; y++) {
      isSample.fill(
        1,
        plane.offset + y * plane.stride,
        plane.offset + y * plane.stride + plane.columns * plane.n,
      );
    }
  }
  for (let i = 0; i < frame.data.byteLength; i++) {
    if (!isSample[i])
      assert.is(frame.data[i], SENTINEL, `byte ${i} outside every plane was written`);
  }
}

/** Texture: a repeatable byte for every sample, unrelated to its neighbours'. */
export const noise =
  (seed: number) =>
  (plane: number, x: number, y: number, c: number): number => {
    let h =
      Math.imul(x + 1, 73856093) ^
      Math.imul(y + 1, 19349663) ^
      Math.imul(plane * 4 + c + seed, 83492791);
    h = Math.imul(h ^ (h >>> 13), 0x5bd1e995);
    return (h ^ (h >>> 15)) & 0xff;
  };
