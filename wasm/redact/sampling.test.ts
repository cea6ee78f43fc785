import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { makeFrame, SENTINEL } from '../../tests/helpers/frames.ts';
import type { FrameFormat } from './raster.ts';
import { changedSince, readRegion } from './sampling.ts';

type Rgb = [number, number, number];

/** BT.601 limited range, as H.264 from cameras stores colour. */
function toYuv([r, g, b]: Rgb): Rgb {
  return [
    Math.round(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255),
    Math.round(128 + (-37.797 * r - 74.203 * g + 112 * b) / 255),
    Math.round(128 + (112 * r - 93.786 * g - 18.214 * b) / 255),
  ];
}

/** A frame whose every pixel has the colour `pixel(x, y)`, stored as `format` stores it. */
function frameOf(
  format: FrameFormat,
  width: number,
  height: number,
  pixel: (x: number, y: number) => Rgb,
) {
  return makeFrame(format, width, height, (plane, x, y, c) => {
    if (format === 'RGBA' || format === 'RGBX') return c === 3 ? 255 : pixel(x, y)[c]!;
    if (format === 'BGRA' || format === 'BGRX') return c === 3 ? 255 : pixel(x, y)[2 - c]!;
    // Chroma from the top-left pixel of its 2×2 block: the tests keep colour uniform per block.
    const yuv = toYuv(pixel(plane === 0 ? x : x * 2, plane === 0 ? y : y * 2));
    if (plane === 0) return yuv[0];
    return format === 'NV12' ? yuv[1 + c]! : yuv[plane]!;
  }).frame;
}

const FORMATS: FrameFormat[] = ['I420', 'I420A', 'NV12', 'RGBA', 'RGBX', 'BGRA', 'BGRX'];
const SIZE = 32;
/** An output square, filled with a value the reader never writes as alpha. */
const output = () => new Uint8ClampedArray(SIZE * SIZE * 4).fill(77);

function pixelAt(out: Uint8ClampedArray, width: number, x: number, y: number): number[] {
  return Array.from(out.subarray((y * width + x) * 4, (y * width + x) * 4 + 4));
}

const reading = suite('readRegion');

for (const format of FORMATS) {
  reading(`reads a uniform ${format} colour back as that colour in RGBA`, () => {
    for (const colour of [
      [200, 120, 40],
      [20, 30, 220],
      [128, 128, 128],
    ] as Rgb[]) {
      const frame = frameOf(format, 90, 70, () => colour);
      const out = output();
      readRegion(frame, { x: 10, y: 6, w: 64, h: 64 }, out, SIZE, { x: 0, y: 0, size: SIZE });
      const tolerance = format.startsWith('I420') || format === 'NV12' ? 3 : 0;
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          const [r, g, b, a] = pixelAt(out, SIZE, x, y);
          assert.ok(
            Math.abs(r! - colour[0]) <= tolerance &&
              Math.abs(g! - colour[1]) <= tolerance &&
              Math.abs(b! - colour[2]) <= tolerance &&
              a === 255,
            `${format} ${colour.join()} read as ${[r, g, b, a].join()} at ${x},${y}`,
          );
        }
      }
    }
  });
}

reading('letterboxes a wide region, leaving the bands above and below as they were', () => {
  const frame = frameOf('I420', 120, 90, () => [250, 250, 250]);
  const out = output();
  const mapping = readRegion(frame, { x: 0, y: 0, w: 100, h: 50 }, out, SIZE, {
    x: 0,
    y: 0,
    size: SIZE,
  });
  assert.equal(mapping, { scale: SIZE / 100, dx: 0, dy: 8 });
  for (let y = 0; y < SIZE; y++) {
    const written = y >= 8 && y < 24;
    for (let x = 0; x < SIZE; x++) {
      assert.is(pixelAt(out, SIZE, x, y)[3], written ? 255 : 77, `row ${y}`);
    }
  }
});

reading('letterboxes a tall region into a square placed inside a wider output', () => {
  const frame = frameOf('RGBA', 120, 90, () => [250, 250, 250]);
  const width = SIZE * 3;
  const out = new Uint8ClampedArray(width * SIZE * 4).fill(77);
  const mapping = readRegion(frame, { x: 10, y: 0, w: 40, h: 80 }, out, width, {
    x: SIZE,
    y: 0,
    size: SIZE,
  });
  assert.equal(mapping, { scale: SIZE / 80, dx: SIZE + 8, dy: 0 });
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < width; x++) {
      const written = x >= SIZE + 8 && x < SIZE + 24;
      assert.is(pixelAt(out, width, x, y)[3], written ? 255 : 77, `pixel ${x},${y}`);
    }
  }
});

reading('returns a mapping that takes each output pixel back to where it was read', () => {
  // Red counts columns and green rows, so every pixel says where it came from.
  for (const format of ['RGBA', 'I420'] as const) {
    const frame = frameOf(format, 240, 200, (x, y) => [x, y, 100]);
    const region = { x: 20, y: 50, w: 200, h: 100 };
    const out = output();
    const { scale, dx, dy } = readRegion(frame, region, out, SIZE, { x: 0, y: 0, size: SIZE });
    for (let oy = dy; oy < dy + Math.round(region.h * scale); oy++) {
      for (let ox = dx; ox < dx + Math.round(region.w * scale); ox++) {
        const [r, g] = pixelAt(out, SIZE, ox, oy);
        // The centre of the output pixel's footprint; the average of whole pixels under it.
        const fx = region.x + (ox - dx + 0.5) / scale - 0.5;
        const fy = region.y + (oy - dy + 0.5) / scale - 0.5;
        const tolerance = format === 'I420' ? 3 : 1;
        assert.ok(
          Math.abs(r! - fx) <= tolerance,
          `${format} ${ox},${oy}: red ${r}, expected ${fx}`,
        );
        assert.ok(
          Math.abs(g! - fy) <= tolerance,
          `${format} ${ox},${oy}: green ${g}, expected ${fy}`,
        );
      }
    }
  }
});

reading('averages the pixels under each output pixel rather than picking one', () => {
  const frame = frameOf('RGBA', 128, 128, (x, y) =>
    (x + y) % 2 === 0 ? [0, 0, 0] : [255, 255, 255],
  );
  const out = output();
  readRegion(frame, { x: 0, y: 0, w: 128, h: 128 }, out, SIZE, { x: 0, y: 0, size: SIZE });
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const [r] = pixelAt(out, SIZE, x, y);
      assert.ok(Math.abs(r! - 127.5) <= 1, `${x},${y}: ${r}`);
    }
  }
});

reading('reads nothing outside the frame for a region at or over its edges', () => {
  // Black pixels; the bytes around the planes hold the test's sentinel, which would show.
  assert.ok(SENTINEL > 100);
  for (const format of FORMATS) {
    const frame = frameOf(format, 61, 45, () => [0, 0, 0]);
    for (const region of [
      { x: 29, y: 13, w: 32, h: 32 },
      { x: 40, y: 30, w: 64, h: 64 },
      { x: -20, y: -10, w: 40, h: 40 },
      { x: 0, y: 0, w: 61, h: 45 },
    ]) {
      const out = output();
      readRegion(frame, region, out, SIZE, { x: 0, y: 0, size: SIZE });
      for (let i = 0; i < out.length; i += 4) {
        if (out[i + 3] !== 255) continue;
        assert.ok(
          out[i]! <= 2 && out[i + 1]! <= 2 && out[i + 2]! <= 2,
          `${format} ${JSON.stringify(region)}: ${Array.from(out.subarray(i, i + 4)).join()}`,
        );
      }
    }
  }
});

reading('leaves the frame as it was', () => {
  for (const format of FORMATS) {
    const frame = frameOf(format, 61, 45, (x, y) => [x * 4, y * 5, 90]);
    const before = frame.data.slice();
    readRegion(frame, { x: 5, y: 3, w: 50, h: 40 }, output(), SIZE, { x: 0, y: 0, size: SIZE });
    assert.equal(frame.data, before, format);
  }
});

reading.run();

const change = suite('changedSince');

/** A 128 × 128 RGBA picture of a smooth gradient, changed by `paint` where it says. */
function picture(paint: (x: number, y: number) => number | null = () => null): Uint8ClampedArray {
  const out = new Uint8ClampedArray(128 * 128 * 4);
  for (let y = 0; y < 128; y++) {
    for (let x = 0; x < 128; x++) {
      const at = (y * 128 + x) * 4;
      const value = paint(x, y) ?? x + y;
      out.set([value, value / 2, 255 - value, 255], at);
    }
  }
  return out;
}

change('the same picture has not changed', () => {
  assert.is(changedSince(picture(), picture(), 128), false);
});

change('noise of a couple of levels everywhere is not a change', () => {
  const noisy = picture((x, y) => x + y + (((x * 7 + y * 13) % 5) - 2));
  assert.is(changedSince(picture(), noisy, 128), false);
});

change('a small face appearing is a change, though it covers 2% of the tile', () => {
  const face = picture((x, y) => (x >= 60 && x < 78 && y >= 30 && y < 48 ? 200 : null));
  assert.is(changedSince(picture(), face, 128), true);
});

change('a slight change of light over the whole tile is not, a strong one is', () => {
  assert.is(
    changedSince(
      picture(),
      picture((x, y) => x + y + 3),
      128,
    ),
    false,
  );
  assert.is(
    changedSince(
      picture(),
      picture((x, y) => x + y + 20),
      128,
    ),
    true,
  );
});

change.run();
