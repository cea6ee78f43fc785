import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Box, FaceTrack } from './recipe.ts';
import {
  bufferedIou,
  coverage,
  FaceTracker,
  iou,
  predict,
  suppress,
  type Detection,
} from './tracker.ts';

const WIDTH = 1280;
const HEIGHT = 720;
/** Detection every 4 frames at 30 fps. */
const STEP = 4 / 30;

/** A square face of `size` pixels at pixel (x, y), as fractions of a 1280×720 frame. */
function face(x: number, y: number, size: number, score = 0.9): Detection {
  return { box: { x: x / WIDTH, y: y / HEIGHT, w: size / WIDTH, h: size / HEIGHT }, score };
}

/** Runs detection frames through the tracker, starting a track with every candidate. */
function track(frames: Detection[][], tracker = new FaceTracker()): FaceTracker {
  frames.forEach((detections, i) => tracker.start(tracker.update(i * STEP, detections)));
  return tracker;
}

const near = (a: number, b: number, tolerance = 1e-9) => Math.abs(a - b) <= tolerance;

const updating = suite('FaceTracker.update');

updating('keeps a face moving steadily across the frame as one track', () => {
  const frames = Array.from({ length: 60 }, (_, i) => [face(40 + i * 15, 300 + i * 4, 100)]);
  const tracker = track(frames);
  assert.is(tracker.tracks.length, 1);
  assert.is(tracker.tracks[0]!.points.length, 60);
});

updating('keeps a small fast face as one track: 24 px moving 20 px per detection', () => {
  for (const [dx, dy] of [
    [20, 0],
    [0, 20],
    [14, 14],
    [-20, 0],
  ] as const) {
    const frames = Array.from({ length: 30 }, (_, i) => [face(600 + i * dx, 340 + i * dy, 24)]);
    const tracker = track(frames);
    assert.is(tracker.tracks.length, 1, `moving ${dx},${dy}`);
    assert.is(tracker.tracks[0]!.points.length, 30, `moving ${dx},${dy}`);
  }
});

updating('keeps a face that stops and turns back as one track', () => {
  const path = [0, 10, 20, 30, 30, 30, 20, 10, 0, -10].map((dx) => [face(600 + dx * 2, 300, 60)]);
  const tracker = track(path);
  assert.is(tracker.tracks.length, 1);
  assert.is(tracker.tracks[0]!.points.length, path.length);
});

updating('keeps a face coming quickly closer as one track', () => {
  // 30% larger at every detection, from 30 px to 600 px.
  const frames = Array.from({ length: 14 }, (_, i) => {
    const size = Math.min(600, 30 * 1.3 ** i);
    return [face(640 + i * 5 - size / 2, 360 - size / 2, size)];
  });
  const tracker = track(frames);
  assert.is(tracker.tracks.length, 1);
  assert.is(tracker.tracks[0]!.points.length, 14);
});

updating('keeps two faces walking past each other as two tracks', () => {
  const frames = Array.from({ length: 40 }, (_, i) => [
    face(200 + i * 20, 200, 60),
    face(1000 - i * 20, 320, 60),
  ]);
  const tracker = track(frames);
  assert.is(tracker.tracks.length, 2);
  for (const { points } of tracker.tracks) {
    assert.is(points.length, 40);
    const ys = new Set(points.map((point) => point.box.y));
    assert.is(ys.size, 1, 'each track stays with one face');
  }
});

updating(
  'continues a track with weak detections but returns a lone weak one as a candidate',
  () => {
    const tracker = new FaceTracker();
    assert.equal(tracker.update(0, [face(600, 300, 60, 0.3)]), [face(600, 300, 60, 0.3)]);
    assert.is(tracker.tracks.length, 0, 'update never starts a track');
    tracker.start([face(600, 300, 60, 0.9)]);
    assert.equal(tracker.update(STEP, [face(605, 300, 60, 0.3)]), []);
    assert.equal(
      tracker.tracks[0]!.points.map((point) => point.score),
      [0.9, 0.3],
    );
  },
);

updating('keeps several faces, each missed now and then, on a track each', () => {
  // [x, y, size, dx, dy] in pixels, moving per detection step; jittered by up to 2 px.
  const faces = [
    [100, 100, 24, 20, 0],
    [900, 200, 24, -20, 6],
    [300, 500, 40, 12, -8],
    [600, 300, 60, -6, 4],
    [1100, 600, 30, -15, -10],
  ] as const;
  const jitter = (i: number, k: number) => Math.sin(i * 12.9898 + k * 78.233) * 2;
  const frames = Array.from({ length: 40 }, (_, i) =>
    faces.flatMap(([x, y, size, dx, dy], k) =>
      (i + k) % 7 === 3
        ? []
        : [face(x + dx * i + jitter(i, k), y + dy * i + jitter(k, i), size, 0.5 + 0.05 * k)],
    ),
  );
  const tracker = track(frames);
  assert.is(tracker.tracks.length, faces.length);
  const onPath = (k: number, box: { x: number; y: number }, i: number) => {
    const [x, y, , dx, dy] = faces[k]!;
    return Math.abs(box.x * WIDTH - x - dx * i) <= 2 && Math.abs(box.y * HEIGHT - y - dy * i) <= 2;
  };
  for (const { points } of tracker.tracks) {
    const k = faces.findIndex((_, k) => onPath(k, points[0]!.box, Math.round(points[0]!.t / STEP)));
    assert.ok(k >= 0, 'the track starts on a face');
    for (const point of points) {
      const i = Math.round(point.t / STEP);
      assert.ok(onPath(k, point.box, i), `the track of face ${k} took another face at step ${i}`);
    }
    assert.ok(points.length >= 34, `face ${k}: ${points.length} sightings`);
  }
});

updating('ignores detections below the low score', () => {
  const tracker = track([[face(600, 300, 60)]]);
  assert.equal(tracker.update(STEP, [face(600, 300, 60, 0.1)]), []);
  assert.is(tracker.tracks[0]!.points.length, 1);
});

updating('returns the detections no track took, strongest first', () => {
  const tracker = track([[face(100, 100, 60)]]);
  const candidates = tracker.update(STEP, [
    face(102, 100, 60, 0.95),
    face(800, 400, 60, 0.5),
    face(500, 100, 40, 0.8),
  ]);
  assert.equal(candidates, [face(500, 100, 40, 0.8), face(800, 400, 60, 0.5)]);
});

updating('ends a track unseen for longer than maxGap; the face seen later starts another', () => {
  const tracker = track([[face(600, 300, 60)]]);
  assert.equal(tracker.update(1.6, [face(600, 300, 60)]), [face(600, 300, 60)]);
  assert.equal(tracker.predictions(1.6), []);
  tracker.start([face(600, 300, 60)]);
  assert.equal(
    tracker.tracks.map((t) => t.id),
    ['t1', 't2'],
  );
  assert.is(tracker.tracks[0]!.points.length, 1);
});

updating('continues a track after a gap within maxGap', () => {
  const tracker = track([[face(600, 300, 60)]]);
  assert.equal(tracker.update(1.4, [face(600, 300, 60)]), []);
  assert.is(tracker.tracks[0]!.points.length, 2);
});

updating('refuses detections out of time order', () => {
  const tracker = track([[face(600, 300, 60)], [face(600, 300, 60)]]);
  assert.throws(() => tracker.update(0.05, [face(600, 300, 60)]), RangeError);
  assert.throws(() => tracker.update(STEP, [face(600, 300, 60)]), /time order/);
  assert.is(tracker.tracks[0]!.points.length, 2, 'nothing was added');
});

updating.run();

const starting = suite('FaceTracker.start');

starting('skips a face a live track already has, from another tile or a box inside it', () => {
  const tracker = track([[face(600, 300, 80)]]);
  assert.equal(tracker.start([face(602, 301, 78)]), []);
  assert.equal(tracker.start([face(620, 320, 40)]), [], 'a box inside the track');
  assert.equal(tracker.start([face(560, 260, 160)]), [], 'a box around the track');
  assert.is(tracker.tracks.length, 1);
});

starting('starts a track for a face elsewhere, at the last update time', () => {
  const tracker = track([[face(600, 300, 80)], [face(600, 300, 80)]]);
  const [started] = tracker.start([face(100, 100, 40, 0.8)]);
  assert.equal(started, { id: 't2', points: [{ t: STEP, ...face(100, 100, 40, 0.8) }] });
  assert.is(tracker.tracks.length, 2);
});

starting('starts a track for a second face right beside a tracked one', () => {
  const tracker = track([[face(600, 300, 60)]]);
  assert.is(tracker.start([face(655, 300, 60)]).length, 1);
  tracker.start(tracker.update(STEP, [face(602, 300, 60), face(657, 300, 60)]));
  assert.equal(
    tracker.tracks.map((t) => t.points.map((p) => Math.round(p.box.x * WIDTH))),
    [
      [600, 602],
      [655, 657],
    ],
  );
});

starting('starts one track for two boxes of one face in one call', () => {
  const tracker = new FaceTracker();
  tracker.update(0, []);
  assert.is(tracker.start([face(600, 300, 80), face(604, 300, 80)]).length, 1);
});

starting('refuses to start a track before any detection frame', () => {
  assert.throws(() => new FaceTracker().start([face(600, 300, 80)]), /update/);
});

starting.run();

const prepending = suite('FaceTracker.prepend');

prepending('puts earlier sightings in front, in time order', () => {
  const tracker = track([[], [], [face(600, 300, 80)]]);
  const [found] = tracker.tracks;
  tracker.prepend(found!, [
    { t: 0, box: face(590, 300, 80).box, score: 0.6 },
    { t: STEP, box: face(595, 300, 80).box, score: 0.7 },
  ]);
  assert.equal(
    found!.points.map((point) => point.t),
    [0, STEP, 2 * STEP],
  );
});

prepending('refuses sightings at or after the first, or out of order', () => {
  const tracker = track([[], [face(600, 300, 80)]]);
  const [found] = tracker.tracks;
  const box = face(600, 300, 80).box;
  assert.throws(() => tracker.prepend(found!, [{ t: STEP, box, score: 0.5 }]), RangeError);
  assert.throws(() => tracker.prepend(found!, [{ t: 0.2, box, score: 0.5 }]), RangeError);
  assert.throws(
    () =>
      tracker.prepend(found!, [
        { t: 0.05, box, score: 0.5 },
        { t: 0.01, box, score: 0.5 },
      ]),
    /time order/,
  );
  assert.is(found!.points.length, 1, 'nothing was added');
});

prepending.run();

const suppressing = suite('suppress');

suppressing('keeps the best of overlapping boxes', () => {
  const best = face(600, 300, 80, 0.9);
  const kept = suppress([face(610, 305, 80, 0.6), best, face(595, 300, 84, 0.7)]);
  assert.equal(kept, [best]);
});

suppressing('keeps the best of a box and a box inside it, whichever is larger', () => {
  assert.equal(suppress([face(600, 300, 200, 0.5), face(650, 350, 60, 0.8)]), [
    face(650, 350, 60, 0.8),
  ]);
  assert.equal(suppress([face(600, 300, 200, 0.8), face(650, 350, 60, 0.5)]), [
    face(600, 300, 200, 0.8),
  ]);
});

suppressing('keeps separate faces, best first', () => {
  const kept = suppress([
    face(100, 100, 60, 0.5),
    face(300, 100, 60, 0.9),
    face(170, 100, 60, 0.7),
  ]);
  assert.equal(
    kept.map((d) => d.score),
    [0.9, 0.7, 0.5],
  );
});

suppressing('keeps nothing of nothing', () => {
  assert.equal(suppress([]), []);
});

suppressing.run();

const overlaps = suite('iou, bufferedIou and coverage');

const box = (x: number, y: number, w: number, h: number): Box => ({ x, y, w, h });

overlaps('measures the overlap of two boxes over their union', () => {
  assert.is(iou(box(0, 0, 2, 2), box(0, 0, 2, 2)), 1);
  assert.ok(near(iou(box(0, 0, 2, 2), box(1, 0, 2, 2)), 1 / 3));
  assert.ok(near(iou(box(0, 0, 2, 2), box(1, 1, 2, 2)), 1 / 7));
  assert.is(iou(box(0, 0, 1, 1), box(1, 0, 1, 1)), 0, 'touching');
  assert.is(iou(box(0, 0, 1, 1), box(3, 3, 1, 1)), 0, 'apart');
});

overlaps('gives boxes side by side an overlap once grown twofold', () => {
  assert.ok(near(bufferedIou(box(0, 0, 1, 1), box(1, 0, 1, 1)), 1 / 3));
  assert.is(bufferedIou(box(0, 0, 1, 1), box(2, 0, 1, 1)), 0);
  assert.is(bufferedIou(box(0, 0, 1, 1), box(0, 0, 1, 1)), 1);
});

overlaps('measures the share of the inner box the outer covers', () => {
  assert.is(coverage(box(1, 1, 1, 1), box(0, 0, 4, 4)), 1);
  assert.ok(near(coverage(box(0, 0, 4, 4), box(1, 1, 1, 1)), 1 / 16));
  assert.ok(near(coverage(box(0, 0, 2, 2), box(1, 0, 2, 2)), 0.5));
  assert.is(coverage(box(0, 0, 1, 1), box(1, 0, 1, 1)), 0);
});

overlaps.run();

const predicting = suite('predict');

const moving = (points: Array<[number, number]>): FaceTrack => ({
  id: 't1',
  points: points.map(([t, x]) => ({ t, box: box(x, 0.5, 0.1, 0.1), score: 0.9 })),
});

predicting('moves the box on at its recent velocity, keeping its size', () => {
  const predicted = predict(
    moving([
      [0, 0.1],
      [0.5, 0.2],
    ]),
    1,
  );
  assert.ok(near(predicted.x, 0.3), `x ${predicted.x}`);
  assert.equal([predicted.y, predicted.w, predicted.h], [0.5, 0.1, 0.1]);
});

predicting('looks at most a second ahead', () => {
  assert.ok(
    near(
      predict(
        moving([
          [0, 0.1],
          [0.5, 0.2],
        ]),
        10,
      ).x,
      0.4,
    ),
  );
});

predicting('holds a box seen once, or twice too close together to measure a velocity', () => {
  assert.is(predict(moving([[0, 0.1]]), 1).x, 0.1);
  assert.is(
    predict(
      moving([
        [0, 0.1],
        [0.01, 0.2],
      ]),
      1,
    ).x,
    0.2,
  );
});

predicting.run();
