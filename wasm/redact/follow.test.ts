import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  bestMatch,
  crop,
  hasTexture,
  keyframePoints,
  lumaOf,
  ObjectFollower,
  type LumaView,
  type PixelBox,
} from './follow.ts';

/** A repeatable pseudo-random sequence (mulberry32), so the synthetic pictures are the same every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const W = 160;
const H = 120;

/** Smooth-ish texture: random blocks of 3×3 pixels, so a match has a clear peak but some width. */
function texture(width: number, height: number, seed: number, low = 0, high = 255): Float32Array {
  const next = random(seed);
  const cells = Array.from(
    { length: Math.ceil(width / 3) * Math.ceil(height / 3) },
    () => low + next() * (high - low),
  );
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++)
      out[y * width + x] = cells[Math.floor(y / 3) * Math.ceil(width / 3) + Math.floor(x / 3)]!;
  }
  return out;
}

const background = texture(W, H, 1);
const object = texture(20, 16, 2);

/** A frame with the object pasted at (x, y), its brightness scaled by `gain` (lighting changes). */
function frame(x: number, y: number, gain = 1, options: { hidden?: boolean } = {}): LumaView {
  const data = background.slice();
  if (!options.hidden) {
    for (let row = 0; row < 16; row++) {
      for (let col = 0; col < 20; col++) {
        const fx = Math.round(x) + col;
        const fy = Math.round(y) + row;
        if (fx >= 0 && fx < W && fy >= 0 && fy < H)
          data[fy * W + fx] = Math.min(255, object[row * 20 + col]! * gain + 10);
      }
    }
  }
  return { x: 0, y: 0, width: W, height: H, data };
}

/** Runs the follower through positions, giving it only the region it asks for each time. */
function follow(
  positions: Array<[number, number]>,
  frames = positions.map(([x, y]) => frame(x, y)),
) {
  const [x0, y0] = positions[0]!;
  const follower = new ObjectFollower(
    frames[0]!,
    { x: x0, y: y0, w: 20, h: 16 },
    { width: W, height: H },
  );
  const steps = frames.slice(1).map((whole) => {
    const region = follower.region;
    return follower.step(crop(whole, region));
  });
  return { follower, steps };
}

const near = (box: PixelBox, x: number, y: number, tolerance = 0.75) =>
  Math.abs(box.x - x) <= tolerance && Math.abs(box.y - y) <= tolerance;

const matching = suite('bestMatch');

matching('finds a pattern where it was pasted, with a correlation of 1', () => {
  const whole = frame(70, 40);
  const template = crop(whole, { x: 70, y: 40, w: 20, h: 16 });
  const match = bestMatch(crop(whole, { x: 50, y: 20, w: 60, h: 60 }), template)!;
  assert.is(Math.round(match.x), 70);
  assert.is(Math.round(match.y), 40);
  assert.ok(match.score > 0.999, `score ${match.score}`);
});

matching('finds it under different lighting: correlation ignores brightness and contrast', () => {
  const template = crop(frame(70, 40), { x: 70, y: 40, w: 20, h: 16 });
  const darker = frame(75, 43, 0.5);
  const match = bestMatch(crop(darker, { x: 50, y: 20, w: 60, h: 60 }), template)!;
  assert.ok(near({ ...match, w: 20, h: 16 }, 75, 43), `at ${match.x},${match.y}`);
  assert.ok(match.score > 0.95, `score ${match.score}`);
});

matching('scores an absent pattern low', () => {
  const template = crop(frame(70, 40), { x: 70, y: 40, w: 20, h: 16 });
  const match = bestMatch(
    crop(frame(0, 0, 1, { hidden: true }), { x: 50, y: 20, w: 60, h: 60 }),
    template,
  )!;
  assert.ok(match.score < 0.6, `score ${match.score}`);
});

matching('has no answer when the search region is smaller than the pattern', () => {
  const template = crop(frame(70, 40), { x: 70, y: 40, w: 20, h: 16 });
  assert.is(bestMatch(crop(frame(70, 40), { x: 70, y: 40, w: 10, h: 10 }), template), undefined);
});

matching.run();

const luma = suite('lumaOf and hasTexture');

luma('weighs red, green and blue as BT.601 does', () => {
  const rgba = new Uint8ClampedArray([
    255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255,
  ]);
  const out = lumaOf(rgba, 4, 1);
  assert.ok(Math.abs(out[0]! - 76.245) < 1e-3);
  assert.ok(Math.abs(out[1]! - 149.685) < 1e-3);
  assert.ok(Math.abs(out[2]! - 29.07) < 1e-3);
  assert.ok(Math.abs(out[3]! - 255) < 1e-3);
});

luma('calls a flat patch untextured and a patterned one textured', () => {
  const flat: LumaView = { x: 0, y: 0, width: 8, height: 8, data: new Float32Array(64).fill(128) };
  assert.is(hasTexture(flat), false);
  assert.is(hasTexture(crop(frame(70, 40), { x: 70, y: 40, w: 20, h: 16 })), true);
});

luma.run();

/** A frame with a pattern of 8 × 6 random cells drawn w × h pixels large at (x, y): it scales. */
const cellValue = random(3);
const cells = Float32Array.from({ length: 48 }, () => cellValue() * 255);
function scaledFrame(x: number, y: number, w: number, h: number): LumaView {
  const data = background.slice();
  for (let fy = Math.round(y); fy < Math.round(y + h); fy++) {
    for (let fx = Math.round(x); fx < Math.round(x + w); fx++) {
      const u = Math.min(7, Math.floor(((fx + 0.5 - x) / w) * 8));
      const v = Math.min(5, Math.floor(((fy + 0.5 - y) / h) * 6));
      if (fx >= 0 && fx < W && fy >= 0 && fy < H) data[fy * W + fx] = cells[v * 8 + u]!;
    }
  }
  return { x: 0, y: 0, width: W, height: H, data };
}

const following = suite('ObjectFollower');

following('follows an object moving steadily across the frame', () => {
  const positions = Array.from({ length: 40 }, (_, i): [number, number] => [10 + i * 2.5, 30 + i]);
  const { steps } = follow(positions);
  assert.ok(steps.every((s) => !s.lost));
  steps.forEach((s, i) => {
    const [x, y] = positions[i + 1]!;
    assert.ok(
      near(s.box, Math.round(x), Math.round(y)),
      `frame ${i + 1}: ${s.box.x},${s.box.y} not ${x},${y}`,
    );
  });
});

following('follows a sudden reversal within its search window', () => {
  const positions = Array.from({ length: 30 }, (_, i): [number, number] => [
    i < 15 ? 40 + i * 4 : 96 - (i - 15) * 4,
    50,
  ]);
  const { steps } = follow(positions);
  assert.ok(steps.every((s) => !s.lost));
  assert.ok(near(steps.at(-1)!.box, positions.at(-1)![0], 50));
});

following('keeps up with a slow change of lighting', () => {
  const positions = Array.from({ length: 30 }, (_, i): [number, number] => [30 + i, 40]);
  const frames = positions.map(([x, y], i) => frame(x, y, 1 - i * 0.02));
  const { steps } = follow(positions, frames);
  assert.ok(steps.every((s) => !s.lost));
  assert.ok(near(steps.at(-1)!.box, 59, 40));
});

following('stops, keeping the last good box, when the object disappears', () => {
  const positions = Array.from({ length: 20 }, (_, i): [number, number] => [30 + i * 2, 40]);
  const frames = positions.map(([x, y], i) => frame(x, y, 1, { hidden: i >= 12 }));
  const { follower, steps } = follow(positions, frames);
  const lostAt = steps.findIndex((s) => s.lost) + 1;
  assert.is(lostAt, 12);
  assert.ok(near(steps[lostAt - 1]!.box, 52, 40), 'the lost step reports the last good box');
  assert.ok(follower.lost);
  assert.ok(
    steps.slice(lostAt - 1).every((s) => s.lost),
    'stays lost',
  );
});

following('loses an object that jumps further than it searches', () => {
  const positions: Array<[number, number]> = [
    [20, 20],
    [22, 20],
    [120, 90],
  ];
  const { steps } = follow(positions);
  assert.is(steps[0]!.lost, false);
  assert.is(steps[1]!.lost, true);
});

following('asks for a search region inside the frame at its edges', () => {
  const follower = new ObjectFollower(
    frame(0, 0),
    { x: 0, y: 0, w: 20, h: 16 },
    { width: W, height: H },
  );
  assert.equal(follower.region, { x: 0, y: 0, w: 30, h: 26 });
  const corner = new ObjectFollower(
    frame(140, 104),
    { x: 140, y: 104, w: 20, h: 16 },
    { width: W, height: H },
  );
  const region = corner.region;
  assert.is(region.x + region.w, W);
  assert.is(region.y + region.h, H);
});

following('keeps the size of an object that stays the same size', () => {
  const positions = Array.from({ length: 30 }, (_, i): [number, number] => [
    20 + i * 2,
    40 + (i % 3),
  ]);
  const { steps } = follow(positions);
  assert.ok(
    steps.every((s) => s.box.w === 20 && s.box.h === 16),
    steps.map((s) => `${s.box.w}x${s.box.h}`).join(' '),
  );
});

following('grows and shrinks the box with an object coming closer and going away', () => {
  const sizes = [
    ...Array.from({ length: 25 }, (_, i) => 24 * 1.02 ** i),
    ...Array.from({ length: 25 }, (_, i) => 24 * 1.02 ** (24 - i)),
  ];
  const frames = sizes.map((w, i) => scaledFrame(70 - w / 2 + i, 60 - (w * 0.75) / 2, w, w * 0.75));
  const follower = new ObjectFollower(
    frames[0]!,
    { x: 58, y: 51, w: 24, h: 18 },
    { width: W, height: H },
  );
  const widths: number[] = [];
  for (const whole of frames.slice(1)) {
    const step = follower.step(crop(whole, follower.region));
    assert.is(step.lost, false);
    widths.push(step.box.w);
  }
  const largest = Math.max(...widths);
  assert.ok(
    Math.abs(largest - 24 * 1.02 ** 24) <= 4,
    `largest ${largest}, truly ${(24 * 1.02 ** 24).toFixed(1)}`,
  );
  assert.ok(Math.abs(widths.at(-1)! - 24) <= 3, `last ${widths.at(-1)}`);
  const centre = follower.box.x + follower.box.w / 2;
  assert.ok(Math.abs(centre - (70 + 49)) <= 2, `centre ${centre}`);
});

following('reports a flat starting box as not followable', () => {
  const grey: LumaView = {
    x: 0,
    y: 0,
    width: W,
    height: H,
    data: new Float32Array(W * H).fill(90),
  };
  assert.is(
    new ObjectFollower(grey, { x: 10, y: 10, w: 20, h: 16 }, { width: W, height: H }).followable,
    false,
  );
  assert.is(
    new ObjectFollower(frame(10, 10), { x: 10, y: 10, w: 20, h: 16 }, { width: W, height: H })
      .followable,
    true,
  );
});

following.run();

const keyframes = suite('keyframePoints');

const point = (t: number, x: number, y = 0) => ({ t, box: { x, y } });
const times = (points: Array<{ t: number }>) => points.map((p) => p.t);

keyframes('keeps only the ends of a steady glide', () => {
  const path = Array.from({ length: 13 }, (_, i) => point(i, i * 2, 10 - i));
  assert.equal(times(keyframePoints(path, 0.5)), [0, 12]);
});

keyframes('keeps the point where the motion reverses', () => {
  const path = [0, 1, 2, 3, 2, 1, 0].map((x, i) => point(i, x));
  assert.equal(times(keyframePoints(path, 0.5)), [0, 3, 6]);
});

keyframes('keeps where the object stops and where it starts again', () => {
  const path = [0, 1, 2, 2, 2, 2, 3, 4].map((x, i) => point(i, x));
  assert.equal(times(keyframePoints(path, 0.25)), [0, 2, 5, 7]);
});

keyframes('ignores wobble within the tolerance', () => {
  const path = [0, 2, 4, 6, 8, 10].map((x, i) => point(i, x, i % 2 ? 0.2 : -0.2));
  assert.equal(times(keyframePoints(path, 0.5)), [0, 5]);
  assert.ok(keyframePoints(path, 0.1).length > 2, 'a tighter tolerance keeps the wobble');
});

keyframes('keeps where the size stops changing, as well as the position', () => {
  const path = [10, 12, 14, 16, 16, 16].map((w, i) => ({ t: i, box: { x: 0, y: 0, w, h: w } }));
  assert.equal(times(keyframePoints(path, 0.5)), [0, 3, 5]);
});

keyframes('adds keyframes along a long glide when told the longest gap', () => {
  const path = Array.from({ length: 101 }, (_, i) => point(i / 25, i));
  const kept = times(keyframePoints(path, 0.5, 25));
  assert.equal(kept, [0, 1, 2, 3, 4]);
});

keyframes('keeps every point of the path within the tolerance of what it keeps', () => {
  const next = random(7);
  let x = 0;
  const path = Array.from({ length: 200 }, (_, i) =>
    point(i / 25, (x += next() * 4 - 1.5), Math.sin(i / 9) * 20),
  );
  const kept = keyframePoints(path, 1);
  assert.ok(kept.length < path.length / 2, `${kept.length} of ${path.length} kept`);
  for (const p of path) {
    const after = kept.findIndex((k) => k.t >= p.t);
    const b = kept[after]!;
    const a = kept[Math.max(0, after - 1)]!;
    const k = b.t === a.t ? 0 : (p.t - a.t) / (b.t - a.t);
    assert.ok(Math.abs(p.box.x - (a.box.x + (b.box.x - a.box.x) * k)) <= 1 + 1e-9, `x at ${p.t}`);
    assert.ok(Math.abs(p.box.y - (a.box.y + (b.box.y - a.box.y) * k)) <= 1 + 1e-9, `y at ${p.t}`);
  }
});

keyframes.run();
