import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ManualMask } from '../../../wasm/redact/recipe.ts';
import {
  boxFromCorners,
  keyframeAt,
  MIN_SIZE,
  moveKeyframe,
  newMask,
  nextLabel,
  nudgeKeyframe,
  resizeKeyframe,
  shapeFromTrace,
  simplifyTrace,
  spanWith,
  withBox,
  withKeyframe,
  withoutKeyframe,
} from './mask-editing.ts';

const close = (actual: number, expected: number, what = 'value') =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} is not ${expected}`);

function mask(overrides: Partial<ManualMask> = {}): ManualMask {
  return {
    id: 'm1',
    shape: 'rectangle',
    label: 'Mask 1',
    from: 0,
    to: 10,
    keyframes: [
      { t: 2, box: { x: 0.1, y: 0.1, w: 0.2, h: 0.2 } },
      { t: 4, box: { x: 0.5, y: 0.3, w: 0.2, h: 0.2 } },
    ],
    ...overrides,
  };
}

const drawing = suite('shapeFromTrace');

drawing('makes a box from the first and last pointer positions, dragged either way', () => {
  const drawn = shapeFromTrace('ellipse', [
    [0.6, 0.7],
    [0.5, 0.5],
    [0.2, 0.3],
  ]);
  assert.equal(drawn?.shape, 'ellipse');
  if (drawn?.shape !== 'ellipse') return;
  close(drawn.box.x, 0.2, 'x');
  close(drawn.box.y, 0.3, 'y');
  close(drawn.box.w, 0.4, 'w');
  close(drawn.box.h, 0.4, 'h');
});

drawing('keeps nothing from a click or a stroke with no area', () => {
  assert.is(shapeFromTrace('rectangle', [[0.5, 0.5]]), undefined);
  assert.is(
    shapeFromTrace('rectangle', [
      [0.5, 0.5],
      [0.502, 0.9],
    ]),
    undefined,
  );
  assert.is(
    shapeFromTrace('polygon', [
      [0.1, 0.1],
      [0.9, 0.1],
      [0.5, 0.1001],
    ]),
    undefined,
  );
});

drawing('clamps a drag that leaves the picture to its edge', () => {
  const box = boxFromCorners([-0.2, 0.5], [0.4, 1.3]);
  assert.equal(box, { x: 0, y: 0.5, w: 0.4, h: 0.5 });
});

drawing('cuts a long freehand trace down evenly, keeping its start', () => {
  const trace = Array.from({ length: 500 }, (_, i): [number, number] => {
    const a = (i / 500) * Math.PI * 2;
    return [0.5 + 0.2 * Math.cos(a), 0.5 + 0.2 * Math.sin(a)];
  });
  const points = simplifyTrace(trace, 50)!;
  assert.is(points.length, 50);
  assert.equal(points[0], trace[0]);
  assert.equal(points[1], trace[10]);
});

drawing.run();

const creating = suite('newMask and nextLabel');

creating('applies a new mask from the moment it was drawn to the end of the video', () => {
  const created = newMask(
    'a',
    { shape: 'rectangle', box: { x: 0.1, y: 0.1, w: 0.2, h: 0.2 } },
    3.5,
    60,
    'Plate',
  );
  assert.is(created.from, 3.5);
  assert.is(created.to, 60);
  assert.equal(created.keyframes, [{ t: 3.5, box: { x: 0.1, y: 0.1, w: 0.2, h: 0.2 } }]);
});

creating('gives a polygon its bounding box with its points', () => {
  const created = newMask(
    'a',
    {
      shape: 'polygon',
      points: [
        [0.2, 0.2],
        [0.6, 0.3],
        [0.4, 0.7],
      ],
    },
    0,
    5,
    'x',
  );
  const [keyframe] = created.keyframes;
  close(keyframe!.box.w, 0.4, 'w');
  close(keyframe!.box.h, 0.5, 'h');
  assert.is(keyframe!.points?.length, 3);
});

creating('numbers labels past the ones in use', () => {
  assert.is(nextLabel([]), 'Mask 1');
  assert.is(nextLabel([mask({ label: 'Mask 2' })]), 'Mask 3');
  assert.is(nextLabel([mask({ label: 'Mask 1' }), mask({ label: 'Mask 3' })]), 'Mask 4');
});

creating.run();

const at = suite('keyframeAt');

at('interpolates between keyframes, so moving the shape at a new time adds one there', () => {
  const keyframe = keyframeAt(mask(), 3)!;
  assert.is(keyframe.t, 3);
  close(keyframe.box.x, 0.3, 'x');
  close(keyframe.box.y, 0.2, 'y');
});

at('takes the existing keyframe’s own time when the playhead is on it', () => {
  assert.is(keyframeAt(mask(), 4.0004)!.t, 4);
});

at('has nothing outside the mask’s span', () => {
  assert.is(keyframeAt(mask({ from: 1, to: 5 }), 6), undefined);
  assert.is(keyframeAt(mask({ from: 1, to: 5 }), 0.5), undefined);
});

at('interpolates polygon points', () => {
  const polygon = mask({
    shape: 'polygon',
    keyframes: [
      {
        t: 0,
        box: { x: 0, y: 0, w: 0.2, h: 0.2 },
        points: [
          [0, 0],
          [0.2, 0],
          [0.1, 0.2],
        ],
      },
      {
        t: 2,
        box: { x: 0.2, y: 0, w: 0.2, h: 0.2 },
        points: [
          [0.2, 0],
          [0.4, 0],
          [0.3, 0.2],
        ],
      },
    ],
  });
  const keyframe = keyframeAt(polygon, 1)!;
  close(keyframe.points![2]![0], 0.2, 'point x');
  close(keyframe.box.x, 0.1, 'box x');
});

at.run();

const keyframes = suite('withKeyframe and withoutKeyframe');

keyframes('inserts in time order and replaces one at the same moment', () => {
  const list = mask().keyframes;
  const added = withKeyframe(list, { t: 3, box: { x: 0, y: 0, w: 0.1, h: 0.1 } });
  assert.equal(
    added.map((k) => k.t),
    [2, 3, 4],
  );
  const replaced = withKeyframe(added, { t: 3.0002, box: { x: 0.5, y: 0, w: 0.1, h: 0.1 } });
  assert.equal(
    replaced.map((k) => k.t),
    [2, 3.0002, 4],
  );
  assert.is(replaced[1]!.box.x, 0.5);
});

keyframes('removes the keyframe at a time but never a mask’s last one', () => {
  const list = mask().keyframes;
  assert.equal(
    withoutKeyframe(list, 2).map((k) => k.t),
    [4],
  );
  assert.equal(
    withoutKeyframe(withoutKeyframe(list, 2), 4).map((k) => k.t),
    [4],
  );
  assert.equal(
    withoutKeyframe(list, 3).map((k) => k.t),
    [2, 4],
  );
});

keyframes.run();

const editing = suite('moveKeyframe, resizeKeyframe and withBox');

editing('moves the shape but not out of the picture', () => {
  const moved = moveKeyframe({ t: 1, box: { x: 0.7, y: 0.1, w: 0.2, h: 0.2 } }, 0.5, -0.05);
  close(moved.box.x, 0.8, 'x');
  close(moved.box.y, 0.05, 'y');
});

editing('moves polygon points with their box', () => {
  const moved = moveKeyframe(
    {
      t: 1,
      box: { x: 0, y: 0, w: 0.2, h: 0.2 },
      points: [
        [0, 0],
        [0.2, 0.2],
        [0, 0.2],
      ],
    },
    0.1,
    0.1,
  );
  close(moved.points![1]![0], 0.3, 'point x');
  close(moved.points![1]![1], 0.3, 'point y');
});

editing('drags one corner and leaves the opposite one where it was', () => {
  const resized = resizeKeyframe(
    { t: 1, box: { x: 0.2, y: 0.2, w: 0.2, h: 0.2 } },
    'nw',
    [0.1, 0.05],
  );
  close(resized.box.x, 0.1, 'x');
  close(resized.box.y, 0.05, 'y');
  close(resized.box.x + resized.box.w, 0.4, 'right');
  close(resized.box.y + resized.box.h, 0.4, 'bottom');
});

editing('stops an edge short of crossing the opposite one', () => {
  const resized = resizeKeyframe(
    { t: 1, box: { x: 0.2, y: 0.2, w: 0.2, h: 0.2 } },
    'e',
    [0.05, 0.3],
  );
  close(resized.box.x, 0.2, 'x');
  assert.ok(resized.box.w > 0);
});

editing('scales polygon points into a new box', () => {
  const fitted = withBox(
    {
      t: 0,
      box: { x: 0, y: 0, w: 0.2, h: 0.2 },
      points: [
        [0, 0],
        [0.2, 0],
        [0.2, 0.2],
      ],
    },
    { x: 0.5, y: 0.5, w: 0.4, h: 0.1 },
  );
  assert.equal(fitted.points, [
    [0.5, 0.5],
    [0.9, 0.5],
    [0.9, 0.6],
  ]);
});

editing.run();

const span = suite('spanWith');

span('sets "from here" and "to here" within the media', () => {
  assert.equal(spanWith({ from: 0, to: 10 }, 'from', 3, 10), { from: 3, to: 10 });
  assert.equal(spanWith({ from: 0, to: 10 }, 'to', 12, 10), { from: 0, to: 10 });
  assert.equal(spanWith({ from: 2, to: 10 }, 'from', -1, 10), { from: 0, to: 10 });
});

span('takes the other end along rather than making an empty span', () => {
  assert.equal(spanWith({ from: 2, to: 5 }, 'from', 7, 10), { from: 7, to: 7 });
  assert.equal(spanWith({ from: 2, to: 5 }, 'to', 1, 10), { from: 1, to: 1 });
});

span.run();

const nudging = suite('nudgeKeyframe');

const start = { t: 1, box: { x: 0.5, y: 0.5, w: 0.2, h: 0.1 } };

nudging('moves half a percent per arrow, five with Shift', () => {
  close(nudgeKeyframe(start, 'ArrowRight', { shift: false, alt: false })!.box.x, 0.505, 'x');
  close(nudgeKeyframe(start, 'ArrowUp', { shift: true, alt: false })!.box.y, 0.45, 'y');
});

nudging('resizes with Alt, never below the smallest mask', () => {
  const wider = nudgeKeyframe(start, 'ArrowRight', { shift: true, alt: true })!;
  close(wider.box.w, 0.25, 'w');
  close(wider.box.x, 0.5, 'x stays');
  const flat = nudgeKeyframe(start, 'ArrowUp', { shift: true, alt: true })!;
  close(flat.box.h, 0.05, 'h');
  const flatter = nudgeKeyframe(flat, 'ArrowUp', { shift: true, alt: true })!;
  close(flatter.box.h, MIN_SIZE, 'h at its smallest');
});

nudging('ignores other keys', () => {
  assert.is(nudgeKeyframe(start, 'Enter', { shift: false, alt: false }), undefined);
});

nudging.run();
