import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { MaskGeometry } from './geometry.ts';
import {
  blockSize,
  isFrameFormat,
  paintMasks,
  type FrameBuffer,
  type FrameFormat,
} from './raster.ts';
import type { MaskStyle } from './recipe.ts';
import {
  makeFrame,
  noise,
  paddingUntouched,
  sample,
  type PlaneSpec,
} from '../../tests/helpers/frames.ts';

/**
 * Compares each plane sample after painting with before: `expect(plane, x, y)` says whether the
 * sample must be unchanged ('same'), may change ('any'), or must hold given values.
 */
function check(
  before: FrameBuffer,
  after: FrameBuffer,
  planes: PlaneSpec[],
  expect: (plane: number, x: number, y: number) => 'same' | 'any' | number[],
): void {
  planes.forEach((plane, p) => {
    for (let y = 0; y < plane.rows; y++) {
      for (let x = 0; x < plane.columns; x++) {
        const wanted = expect(p, x, y);
        if (wanted === 'any') continue;
        for (let c = 0; c < plane.n; c++) {
          const is = sample(after, plane, x, y, c);
          const want = wanted === 'same' ? sample(before, plane, x, y, c) : wanted[c];
          if (is !== want) {
            assert.unreachable(
              `plane ${p} sample ${x},${y} component ${c}: ${is}, expected ${want}`,
            );
          }
        }
      }
    }
  });
  paddingUntouched(after, planes);
}

const W = 64;
const H = 48;
const FORMATS: FrameFormat[] = ['I420', 'NV12', 'RGBA', 'BGRA'];

/** The painted frame and a copy of it from before. */
function paint(
  format: FrameFormat,
  masks: MaskGeometry[],
  style: MaskStyle,
  value: (plane: number, x: number, y: number, c: number) => number = noise(1),
  width = W,
  height = H,
) {
  const { frame, planes } = makeFrame(format, width, height, value);
  const before = { ...frame, data: frame.data.slice() };
  paintMasks(frame, masks, style);
  return { before, after: frame, planes };
}

/**
 * Paints a rectangle of whole pixels and checks that nothing outside it changed (and, for a fill,
 * that every sample wholly inside holds the colour).
 */
function paintRectangle(
  format: FrameFormat,
  rect: { x: number; y: number; w: number; h: number },
  style: MaskStyle,
  value?: (plane: number, x: number, y: number, c: number) => number,
) {
  const result = paint(
    format,
    [{ shape: 'rectangle', box: pixels(rect.x, rect.y, rect.w, rect.h) }],
    style,
    value,
  );
  check(result.before, result.after, result.planes, (p, x, y) => {
    const place = where(result.planes[p]!, x, y, rect);
    if (place === 'outside') return 'same';
    return place === 'inside' && style.kind === 'fill' ? filled(format, p) : 'any';
  });
  return result;
}

/** A rectangle of whole pixels, as fractions of the W×H frame. */
const pixels = (x: number, y: number, w: number, h: number, width = W, height = H) => ({
  x: x / width,
  y: y / height,
  w: w / width,
  h: h / height,
});

/** Red in BT.601 limited range: Y 81, U (Cb) 90, V (Cr) 240. */
const RED = '#ff0000';
const RED_YUV = [81, 90, 240];
const fill: MaskStyle = { kind: 'fill', strength: 50, color: RED };

/** Whether the plane sample's pixels lie wholly inside, wholly outside, or across the rectangle. */
function where(
  plane: PlaneSpec,
  x: number,
  y: number,
  r: { x: number; y: number; w: number; h: number },
) {
  const left = x * plane.sub;
  const top = y * plane.sub;
  const right = left + plane.sub;
  const bottom = top + plane.sub;
  if (left >= r.x && right <= r.x + r.w && top >= r.y && bottom <= r.y + r.h) return 'inside';
  if (right <= r.x || left >= r.x + r.w || bottom <= r.y || top >= r.y + r.h) return 'outside';
  return 'edge';
}

function filled(format: FrameFormat, plane: number): number[] {
  if (format === 'RGBA') return [255, 0, 0, 255];
  if (format === 'BGRA') return [0, 0, 255, 255];
  if (format === 'NV12' && plane === 1) return [RED_YUV[1]!, RED_YUV[2]!];
  return [RED_YUV[plane]!];
}

const filling = suite('paintMasks: fill');

for (const format of FORMATS) {
  filling(
    `fills a rectangle of a ${format} frame with the exact colour, nothing outside it`,
    () => {
      // Odd edges, so chroma samples straddle the rectangle's border.
      const rect = { x: 11, y: 7, w: 21, h: 15 };
      paintRectangle(format, rect, fill);
    },
  );
}

filling(
  'paints the chroma of a block the rectangle covers only partly (a face never keeps its colour)',
  () => {
    const rect = { x: 11, y: 7, w: 21, h: 15 };
    const { after, planes } = paintRectangle('I420', rect, fill);
    // Chroma sample (5, 3) covers pixels 10-11 × 6-7, of which only (11, 7) is in the rectangle.
    assert.is(sample(after, planes[1]!, 5, 3), RED_YUV[1]);
    assert.is(sample(after, planes[2]!, 5, 3), RED_YUV[2]);
  },
);

filling('leaves the corners of an ellipse box unchanged and fills its middle', () => {
  for (const format of FORMATS) {
    const rect = { x: 10, y: 6, w: 40, h: 30 };
    const { before, after, planes } = paint(
      format,
      [{ shape: 'ellipse', box: pixels(rect.x, rect.y, rect.w, rect.h) }],
      fill,
    );
    const cx = rect.x + rect.w / 2;
    const cy = rect.y + rect.h / 2;
    check(before, after, planes, (p, x, y) => {
      const plane = planes[p]!;
      const place = where(plane, x, y, rect);
      if (place === 'outside') return 'same';
      // Distance of the sample's farthest and nearest pixel centre from the centre, in radii.
      const reach = (px: number, py: number) =>
        ((px + 0.5 - cx) / (rect.w / 2)) ** 2 + ((py + 0.5 - cy) / (rect.h / 2)) ** 2;
      const corners = [0, plane.sub - 1].flatMap((dx) =>
        [0, plane.sub - 1].map((dy) => reach(x * plane.sub + dx, y * plane.sub + dy)),
      );
      if (Math.max(...corners) < 0.85) return filled(format, p);
      if (Math.min(...corners) > 1.15) return 'same';
      return 'any';
    });
    // The box's corner pixels, by name.
    const luma = planes[0]!;
    for (const [x, y] of [
      [rect.x, rect.y],
      [rect.x + rect.w - 1, rect.y],
      [rect.x, rect.y + rect.h - 1],
      [rect.x + rect.w - 1, rect.y + rect.h - 1],
    ] as const) {
      assert.is(
        sample(after, luma, x, y),
        sample(before, luma, x, y),
        `${format} corner ${x},${y}`,
      );
    }
  }
});

filling('fills a triangle and only the triangle', () => {
  const corners: Array<[number, number]> = [
    [8, 4],
    [56, 20],
    [20, 44],
  ];
  const geometry: MaskGeometry = {
    shape: 'polygon',
    box: pixels(8, 4, 48, 40),
    points: corners.map(([x, y]) => [x / W, y / H]),
  };
  /** Signed distance of a point from the triangle's edges, positive inside. */
  const depth = (px: number, py: number) =>
    Math.min(
      ...corners.map(([ax, ay], i) => {
        const [bx, by] = corners[(i + 1) % 3]!;
        const length = Math.hypot(bx - ax, by - ay);
        return ((bx - ax) * (py - ay) - (by - ay) * (px - ax)) / length;
      }),
    );
  for (const format of FORMATS) {
    const { before, after, planes } = paint(format, [geometry], fill);
    check(before, after, planes, (p, x, y) => {
      const plane = planes[p]!;
      const centres = [0, plane.sub - 1].flatMap((dx) =>
        [0, plane.sub - 1].map((dy) => depth(x * plane.sub + dx + 0.5, y * plane.sub + dy + 0.5)),
      );
      if (Math.min(...centres) > 1) return filled(format, p);
      if (Math.max(...centres) < -1) return 'same';
      return 'any';
    });
  }
});

filling('clips a mask partly outside the frame, and ignores one wholly outside', () => {
  for (const format of FORMATS) {
    const rect = { x: -10, y: 40, w: 30, h: 20 };
    const { before, after, planes } = paint(
      format,
      [
        { shape: 'rectangle', box: pixels(rect.x, rect.y, rect.w, rect.h) },
        { shape: 'ellipse', box: pixels(W + 5, -20, 30, 30) },
        { shape: 'rectangle', box: { x: -0.5, y: -0.5, w: 0.2, h: 0.2 } },
      ],
      fill,
    );
    check(before, after, planes, (p, x, y) => {
      const place = where(planes[p]!, x, y, rect);
      return place === 'inside' ? filled(format, p) : place === 'outside' ? 'same' : 'any';
    });
  }
});

filling('clips a polygon reaching past the frame to the part inside', () => {
  // The triangle's long side runs corner to corner: it covers the frame's top-left half.
  const points: Array<[number, number]> = [
    [-0.5, -0.5],
    [1.5, -0.5],
    [-0.5, 1.5],
  ];
  for (const format of FORMATS) {
    const { before, after, planes } = paint(
      format,
      [{ shape: 'polygon', box: { x: -0.5, y: -0.5, w: 2, h: 2 }, points }],
      fill,
    );
    check(before, after, planes, (p, x, y) => {
      const sub = planes[p]!.sub;
      const reach = (x * sub + sub / 2) / W + (y * sub + sub / 2) / H;
      return reach < 0.9 ? filled(format, p) : reach > 1.1 ? 'same' : 'any';
    });
  }
});

filling('fills the whole frame for a mask larger than it', () => {
  const { after, planes } = paint(
    'NV12',
    [{ shape: 'rectangle', box: { x: -1, y: -1, w: 3, h: 3 } }],
    fill,
  );
  check(after, after, planes, (p) => filled('NV12', p));
});

filling('paints an odd-sized I420 frame up to its last column and row', () => {
  const { before, after, planes } = paint(
    'I420',
    [{ shape: 'rectangle', box: { x: 0.5, y: 0.5, w: 0.5, h: 0.5 } }],
    fill,
    noise(3),
    33,
    25,
  );
  const rect = { x: 16, y: 12, w: 17, h: 13 };
  check(before, after, planes, (p, x, y) => {
    const place = where(planes[p]!, x, y, rect);
    return place === 'inside' ? filled('I420', p) : place === 'outside' ? 'same' : 'any';
  });
  assert.is(sample(after, planes[0]!, 32, 24), RED_YUV[0]);
  assert.is(sample(after, planes[1]!, 16, 12), RED_YUV[1]);
});

filling('paints nothing when there are no masks', () => {
  const { before, after } = paint('I420', [], fill);
  assert.equal(after.data, before.data);
});

filling('names the plane a layout lacks', () => {
  for (const [format, planes] of [
    ['I420', 2],
    ['NV12', 1],
    ['RGBA', 0],
  ] as const) {
    const { frame } = makeFrame(format, W, H, () => 0);
    const short = { ...frame, layout: frame.layout.slice(0, planes) };
    assert.throws(
      () => paintMasks(short, [{ shape: 'rectangle', box: pixels(0, 0, 8, 8) }], fill),
      (error: Error) =>
        error instanceof RangeError &&
        error.message.includes(`${format} frame needs plane ${planes}`),
    );
  }
});

filling.run();

const pixelating = suite('paintMasks: pixelate');

/**
 * Which block a pixel `at` pixels into a mask `extent` long is in: blocks start at the mask's
 * edge, and a strip narrower than half a block left at the far end belongs to the last block.
 */
function cellOf(at: number, extent: number, block: number): number {
  return Math.min(Math.max(1, Math.floor(extent / block)) - 1, Math.floor(at / block));
}

for (const format of ['I420', 'RGBA'] as const) {
  pixelating(
    `makes uniform blocks inside the rectangle of a ${format} frame, nothing outside`,
    () => {
      const rect = { x: 8, y: 6, w: 40, h: 32 };
      const style: MaskStyle = { kind: 'pixelate', strength: 60, color: RED };
      const { before, after, planes } = paintRectangle(format, rect, style);
      const block = blockSize(rect.w, rect.h, style.strength);
      assert.ok(block >= 4, `block ${block}`);
      const luma = planes[0]!;
      const blocks = new Map<string, Set<string>>();
      let changed = 0;
      for (let y = rect.y; y < rect.y + rect.h; y++) {
        for (let x = rect.x; x < rect.x + rect.w; x++) {
          const key = `${cellOf(x - rect.x, rect.w, block)},${cellOf(y - rect.y, rect.h, block)}`;
          const value = Array.from({ length: luma.n }, (_, c) =>
            sample(after, luma, x, y, c),
          ).join();
          blocks.set(key, (blocks.get(key) ?? new Set()).add(value));
          if (
            value !== Array.from({ length: luma.n }, (_, c) => sample(before, luma, x, y, c)).join()
          )
            changed++;
        }
      }
      for (const [key, values] of blocks)
        assert.is(values.size, 1, `block ${key} holds ${values.size} values`);
      assert.ok(changed > rect.w * rect.h * 0.9, `${changed} pixels changed`);
    },
  );
}

pixelating('paints each block the average of the pixels under it', () => {
  // Left half of the mask 40, right half 200, in luma: blocks on either side keep their value.
  const rect = { x: 0, y: 0, w: 32, h: 32 };
  const style: MaskStyle = { kind: 'pixelate', strength: 1, color: RED };
  const block = blockSize(rect.w, rect.h, style.strength);
  assert.is(32 % (2 * block), 0, 'the halves are whole blocks');
  const { after, planes } = paint(
    'I420',
    [{ shape: 'rectangle', box: pixels(0, 0, 32, 32, 32, 32) }],
    style,
    (p, x) => (p === 0 ? (x < 16 ? 40 : 200) : 128),
    32,
    32,
  );
  for (let x = 0; x < 32; x++) assert.is(sample(after, planes[0]!, x, 9), x < 16 ? 40 : 200);
});

const blurring = suite('paintMasks: blur');

const checkerboard = (p: number, x: number, y: number, c: number) =>
  p === 0 || c < 3 ? ((x + y) % 2 === 0 ? 0 : 255) : 255;

for (const format of FORMATS) {
  blurring(`leaves no fine detail inside a ${format} mask and changes nothing outside`, () => {
    const rect = { x: 8, y: 6, w: 40, h: 36 };
    const style: MaskStyle = { kind: 'blur', strength: 50, color: RED };
    const { after, planes } = paintRectangle(format, rect, style, checkerboard);
    const luma = planes[0]!;
    const values: number[] = [];
    for (let y = rect.y; y < rect.y + rect.h; y++) {
      for (let x = rect.x; x < rect.x + rect.w; x++) values.push(sample(after, luma, x, y, 0));
    }
    const spread = Math.max(...values) - Math.min(...values);
    assert.ok(spread <= 32, `a checkerboard blurred still spans ${spread} levels`);
  });
}

blurring('changes every part of a textured face and varies smoothly', () => {
  const rect = { x: 8, y: 6, w: 40, h: 36 };
  const style: MaskStyle = { kind: 'blur', strength: 60, color: RED };
  const { before, after, planes } = paintRectangle('I420', rect, style);
  const luma = planes[0]!;
  const block = blockSize(rect.w, rect.h, style.strength);
  let unchanged = 0;
  let steepest = 0;
  for (let y = rect.y; y < rect.y + rect.h; y++) {
    for (let x = rect.x; x < rect.x + rect.w; x++) {
      if (sample(after, luma, x, y) === sample(before, luma, x, y)) unchanged++;
      if (x > rect.x)
        steepest = Math.max(
          steepest,
          Math.abs(sample(after, luma, x, y) - sample(after, luma, x - 1, y)),
        );
      if (y > rect.y)
        steepest = Math.max(
          steepest,
          Math.abs(sample(after, luma, x, y) - sample(after, luma, x, y - 1)),
        );
    }
  }
  assert.ok(unchanged < rect.w * rect.h * 0.05, `${unchanged} pixels kept their value`);
  // Random pixels span 0-255 next to each other; block averages differ by far less, spread over a block.
  assert.ok(steepest <= Math.ceil(255 / block), `neighbours differ by up to ${steepest}`);
});

for (const kind of ['blur', 'pixelate'] as const) {
  const blurOrPixelate = kind === 'blur' ? blurring : pixelating;
  blurOrPixelate(
    `${kind}: gives no pixel, even at the mask's far edges, a block of its own`,
    () => {
      // On a checkerboard, masks of every size, so some end a pixel or two past a whole block.
      const style: MaskStyle = { kind, strength: 20, color: RED };
      for (let size = 8; size <= 64; size++) {
        const block = blockSize(size, size, style.strength);
        const { after, planes } = paint(
          'RGBA',
          [{ shape: 'rectangle', box: pixels(0, 0, size, size, 64, 64) }],
          style,
          checkerboard,
          64,
          64,
        );
        const values: number[] = [];
        for (let y = 0; y < size; y++) {
          for (let x = 0; x < size; x++) values.push(sample(after, planes[0]!, x, y, 0));
        }
        const spread = Math.max(...values) - Math.min(...values);
        assert.ok(spread <= 40, `${size} px (block ${block}): ${kind} spans ${spread} levels`);
      }
    },
  );
  blurOrPixelate(`${kind}: keeps a uniform area its colour, whatever the mask's size`, () => {
    const style: MaskStyle = { kind, strength: 100, color: RED };
    for (let size = 100; size <= 170; size++) {
      const { before, after, planes } = paint(
        'NV12',
        [{ shape: 'rectangle', box: pixels(10, 10, size, size, 192, 192) }],
        style,
        (p, x, y, c) => (p === 0 ? 90 : c === 0 ? 60 : 180),
        192,
        192,
      );
      check(before, after, planes, () => 'same');
    }
  });
}

blurring('keeps a uniform area its colour', () => {
  const style: MaskStyle = { kind: 'blur', strength: 60, color: RED };
  for (const format of FORMATS) {
    const { before, after, planes } = paint(
      format,
      [{ shape: 'ellipse', box: pixels(3, 5, 50, 37) }],
      style,
      (p, x, y, c) => [90, 30, 200, 255][c]! - p * 20,
    );
    check(before, after, planes, () => 'same');
  }
});

pixelating.run();
blurring.run();

const anyMask = suite('paintMasks: any mask');

anyMask('writes nothing outside the box of any mask, in any style, format or frame size', () => {
  // A repeatable sequence of fractions (a linear congruential generator).
  let state = 12345;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const kinds = ['fill', 'blur', 'pixelate'] as const;
  const shapes = ['rectangle', 'ellipse', 'polygon'] as const;
  for (let round = 0; round < 300; round++) {
    const format = FORMATS[round % FORMATS.length]!;
    const width = 16 + Math.floor(next() * 50);
    const height = 16 + Math.floor(next() * 50);
    // Boxes from well outside the frame to larger than it.
    const box = { x: next() * 1.6 - 0.5, y: next() * 1.6 - 0.5, w: next() * 0.9, h: next() * 0.9 };
    const shape = shapes[Math.floor(next() * 3)]!;
    const geometry: MaskGeometry =
      shape === 'polygon'
        ? {
            shape,
            box,
            points: [
              [box.x, box.y + box.h],
              [box.x + box.w * next(), box.y],
              [box.x + box.w, box.y + box.h * next()],
            ],
          }
        : { shape, box };
    const style: MaskStyle = {
      kind: kinds[Math.floor(next() * 3)]!,
      strength: 1 + Math.floor(next() * 100),
      color: '#336699',
    };
    const { before, after, planes } = paint(format, [geometry], style, noise(round), width, height);
    const rect = {
      x: Math.floor(box.x * width),
      y: Math.floor(box.y * height),
      w: 0,
      h: 0,
    };
    rect.w = Math.ceil((box.x + box.w) * width) - rect.x;
    rect.h = Math.ceil((box.y + box.h) * height) - rect.y;
    check(before, after, planes, (p, x, y) =>
      where(planes[p]!, x, y, rect) === 'outside' ? 'same' : 'any',
    );
  }
});

anyMask.run();

const blocks = suite('blockSize');

blocks('grows with strength', () => {
  let previous = 0;
  for (let strength = 1; strength <= 100; strength++) {
    const size = blockSize(200, 240, strength);
    assert.ok(size >= previous, `strength ${strength}: ${size} < ${previous}`);
    previous = size;
  }
  assert.ok(blockSize(200, 240, 100) > 3 * blockSize(200, 240, 1));
});

blocks('follows the mask’s shorter side, never under 2 pixels, strength held to 1-100', () => {
  assert.is(blockSize(200, 100, 50), blockSize(100, 400, 50));
  assert.is(blockSize(4, 4, 1), 2);
  assert.is(blockSize(200, 200, 500), blockSize(200, 200, 100));
  assert.is(blockSize(200, 200, -3), blockSize(200, 200, 1));
});

blocks.run();

const formats = suite('isFrameFormat');

formats('accepts the formats the painter handles and nothing else', () => {
  for (const format of ['I420', 'I420A', 'NV12', 'RGBA', 'RGBX', 'BGRA', 'BGRX'])
    assert.ok(isFrameFormat(format));
  for (const format of ['I422', 'I444', 'NV21', '', null]) assert.not.ok(isFrameFormat(format));
});

formats.run();
