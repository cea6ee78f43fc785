import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  FACE_GROWTH,
  growBox,
  maskAt,
  masksAt,
  padGeometry,
  selectedTracks,
  trackBoxAt,
  type MaskGeometry,
} from './geometry.ts';
import {
  emptyRecipe,
  type Box,
  type FaceAnalysis,
  type FaceTrack,
  type ManualMask,
  type RedactionRecipe,
} from './recipe.ts';

const box = (x: number, y: number, w = 0.1, h = 0.1): Box => ({ x, y, w, h });

/** A track seen at each [t, x] (y 0.5, 0.1 across). */
function track(id: string, sightings: Array<[number, number]>): FaceTrack {
  return { id, points: sightings.map(([t, x]) => ({ t, box: box(x, 0.5), score: 0.9 })) };
}

function near(actual: Box | null | undefined, expected: Box, tolerance = 1e-9): void {
  assert.ok(actual, 'a box');
  for (const key of ['x', 'y', 'w', 'h'] as const) {
    assert.ok(
      Math.abs(actual[key] - expected[key]) <= tolerance,
      `${key}: ${actual[key]}, expected ${expected[key]} (${JSON.stringify(actual)})`,
    );
  }
}

const boxes = suite('trackBoxAt');
const walking = track('t1', [
  [1, 0.1],
  [2, 0.3],
  [4, 0.4],
]);

boxes('interpolates between the sightings around the time', () => {
  near(trackBoxAt(walking, 1.5, 0.5), box(0.2, 0.5));
  near(trackBoxAt(walking, 3, 0.5), box(0.35, 0.5));
  near(trackBoxAt(walking, 2, 0.5), box(0.3, 0.5));
});

boxes('holds the first and last box within `hold`, and nothing beyond', () => {
  near(trackBoxAt(walking, 0.5, 0.5), box(0.1, 0.5));
  near(trackBoxAt(walking, 4.5, 0.5), box(0.4, 0.5));
  assert.is(trackBoxAt(walking, 0.49, 0.5), null);
  assert.is(trackBoxAt(walking, 4.51, 0.5), null);
});

boxes('has no box for a track with no sightings', () => {
  assert.is(trackBoxAt({ id: 't1', points: [] }, 0, 1), null);
});

boxes('takes the later of two sightings at the same time', () => {
  const twice = track('t1', [
    [1, 0.1],
    [1, 0.2],
  ]);
  near(trackBoxAt(twice, 1, 0), box(0.2, 0.5));
});

boxes.run();

function analysisOf(tracks: FaceTrack[]): FaceAnalysis {
  return {
    version: 1,
    source: 'a'.repeat(64),
    width: 1280,
    height: 720,
    frameRate: 30,
    frames: 300,
    detector: { model: 'blazeface', step: 4, scanEvery: 60, minScore: 0.15 },
    hold: 0.2,
    tracks,
  };
}

function recipeOf(selected: string[], merges: Array<[string, string]> = []): RedactionRecipe {
  const recipe = emptyRecipe('a'.repeat(64));
  recipe.faces = { selected, merges };
  return recipe;
}

const selecting = suite('selectedTracks');
const analysis = analysisOf([
  track('a', [
    [0, 0.1],
    [1, 0.2],
  ]),
  track('b', [
    [3, 0.5],
    [4, 0.6],
  ]),
  track('c', [
    [6, 0.7],
    [7, 0.8],
  ]),
  track('d', [[0, 0.9]]),
]);

selecting('gives the selected tracks, and no others', () => {
  const chosen = selectedTracks(analysis, recipeOf(['b', 'd']));
  assert.equal(
    chosen.map((t) => t.id),
    ['b', 'd'],
  );
  assert.equal(chosen[0]!.points, analysis.tracks[1]!.points);
});

selecting('has nothing without an analysis', () => {
  assert.equal(selectedTracks(undefined, recipeOf(['a'])), []);
});

selecting('follows a chain of merges (c into b, b into a) to one track', () => {
  const chosen = selectedTracks(
    analysis,
    recipeOf(
      ['a'],
      [
        ['a', 'b'],
        ['b', 'c'],
      ],
    ),
  );
  assert.is(chosen.length, 1);
  assert.is(chosen[0]!.id, 'a');
  assert.equal(
    chosen[0]!.points.map((p) => p.t),
    [0, 1, 3, 4, 6, 7],
  );
});

selecting('bridges the gap between merged tracks: one person, masked throughout', () => {
  const [merged] = selectedTracks(analysis, recipeOf(['a'], [['a', 'c']]));
  near(trackBoxAt(merged!, 3.5, 0), box(0.45, 0.5));
});

selecting('selects the whole person when a track merged into another is selected', () => {
  const chosen = selectedTracks(analysis, recipeOf(['b'], [['a', 'b']]));
  assert.equal(
    chosen.map((t) => [t.id, t.points.length]),
    [['a', 4]],
  );
});

selecting('ignores ids the analysis does not have, and still masks the known selected face', () => {
  assert.equal(selectedTracks(analysis, recipeOf(['zz'])), []);
  for (const merges of [[['zz', 'b']], [['b', 'zz']]] as Array<Array<[string, string]>>) {
    const chosen = selectedTracks(analysis, recipeOf(['b'], merges));
    assert.equal(
      chosen.map((t) => t.id),
      ['b'],
      JSON.stringify(merges),
    );
  }
});

selecting('ends, and masks both faces, when merges go round in a circle', () => {
  const chosen = selectedTracks(
    analysis,
    recipeOf(
      ['a', 'b'],
      [
        ['a', 'b'],
        ['b', 'a'],
      ],
    ),
  );
  const points = chosen.flatMap((t) => t.points.map((p) => p.t)).sort();
  assert.equal(points, [0, 1, 3, 4]);
});

selecting('masks both of two merged tracks that were seen at the same time', () => {
  // Two tracks of one person (or two people merged by mistake): neither face may go unmasked.
  const overlapping = analysisOf([
    track('a', [
      [0, 0.1],
      [1, 0.1],
      [2, 0.1],
    ]),
    track('b', [
      [0.5, 0.7],
      [1.5, 0.7],
    ]),
  ]);
  const chosen = selectedTracks(overlapping, recipeOf(['a'], [['a', 'b']]));
  for (const t of [0.5, 1, 1.25, 1.5]) {
    const xs = chosen.map((c) => trackBoxAt(c, t, 0)?.x).filter((x) => x !== undefined);
    assert.ok(
      xs.some((x) => Math.abs(x - 0.1) < 1e-9) && xs.some((x) => Math.abs(x - 0.7) < 1e-9),
      `at ${t} s: masks at ${xs.join(', ')}`,
    );
  }
});

selecting('leaves the analysis and the recipe as they were', () => {
  const recipe = recipeOf(
    ['a', 'b'],
    [
      ['a', 'c'],
      ['b', 'd'],
    ],
  );
  const before = JSON.stringify([analysis, recipe]);
  const chosen = selectedTracks(analysis, recipe);
  for (const { points } of chosen) points.push({ t: 99, box: box(0, 0), score: 1 });
  assert.is(JSON.stringify([analysis, recipe]), before);
});

selecting.run();

const masks = suite('maskAt');

function manual(shape: ManualMask['shape'], keyframes: ManualMask['keyframes']): ManualMask {
  return { id: 'm1', shape, label: '', from: 1, to: 5, keyframes };
}

const moving = manual('rectangle', [
  { t: 2, box: box(0.1, 0.1, 0.2, 0.2) },
  { t: 4, box: box(0.5, 0.3, 0.4, 0.2) },
]);

masks('interpolates the box between keyframes', () => {
  const geometry = maskAt(moving, 3);
  assert.is(geometry?.shape, 'rectangle');
  near(geometry?.box, box(0.3, 0.2, 0.3, 0.2));
});

masks('holds the first and last keyframe within from..to', () => {
  near(maskAt(moving, 1)?.box, box(0.1, 0.1, 0.2, 0.2));
  near(maskAt(moving, 5)?.box, box(0.5, 0.3, 0.4, 0.2));
});

masks('applies only from `from` to `to`', () => {
  assert.is(maskAt(moving, 0.99), null);
  assert.is(maskAt(moving, 5.01), null);
  assert.is(maskAt(manual('ellipse', []), 2), null, 'no keyframes');
});

masks('keeps an ellipse an ellipse', () => {
  assert.is(maskAt({ ...moving, shape: 'ellipse' }, 3)?.shape, 'ellipse');
});

masks('interpolates every point of a polygon, its box the points’ bounds', () => {
  const triangle = manual('polygon', [
    {
      t: 2,
      box: box(0, 0, 1, 1),
      points: [
        [0.1, 0.1],
        [0.3, 0.1],
        [0.2, 0.3],
      ],
    },
    {
      t: 4,
      box: box(0, 0, 1, 1),
      points: [
        [0.5, 0.1],
        [0.9, 0.1],
        [0.6, 0.5],
      ],
    },
  ]);
  const geometry = maskAt(triangle, 3) as Extract<MaskGeometry, { shape: 'polygon' }>;
  assert.is(geometry.shape, 'polygon');
  const expected = [
    [0.3, 0.1],
    [0.6, 0.1],
    [0.4, 0.4],
  ];
  geometry.points.forEach(([x, y], i) => {
    assert.ok(Math.abs(x - expected[i]![0]!) < 1e-9 && Math.abs(y - expected[i]![1]!) < 1e-9);
  });
  near(geometry.box, box(0.3, 0.1, 0.3, 0.3));
  const first = maskAt(triangle, 1.5) as Extract<MaskGeometry, { shape: 'polygon' }>;
  assert.equal(first.points, triangle.keyframes[0]!.points);
});

masks('draws a polygon without three points as its box', () => {
  const line = manual('polygon', [
    {
      t: 2,
      box: box(0.2, 0.2, 0.1, 0.1),
      points: [
        [0.2, 0.2],
        [0.3, 0.3],
      ],
    },
  ]);
  assert.equal(maskAt(line, 2), { shape: 'rectangle', box: box(0.2, 0.2, 0.1, 0.1) });
});

masks.run();

const padding = suite('padGeometry');

padding('grows a box about its centre by the padding', () => {
  const padded = padGeometry({ shape: 'ellipse', box: box(0.4, 0.4, 0.2, 0.1) }, 0.5);
  assert.is(padded.shape, 'ellipse');
  near(padded.box, box(0.35, 0.375, 0.3, 0.15));
});

padding('never shrinks a mask for a negative padding', () => {
  const geometry: MaskGeometry = { shape: 'rectangle', box: box(0.4, 0.4, 0.2, 0.1) };
  assert.equal(padGeometry(geometry, -0.5), geometry);
});

padding('scales a polygon’s points about its box’s centre', () => {
  const padded = padGeometry(
    {
      shape: 'polygon',
      box: box(0.2, 0.2, 0.2, 0.2),
      points: [
        [0.2, 0.2],
        [0.4, 0.2],
        [0.3, 0.4],
      ],
    },
    1,
  ) as Extract<MaskGeometry, { shape: 'polygon' }>;
  near(padded.box, box(0.1, 0.1, 0.4, 0.4));
  padded.points.forEach(([x, y], i) => {
    const [ex, ey] = [
      [0.1, 0.1],
      [0.5, 0.1],
      [0.3, 0.5],
    ][i]!;
    assert.ok(Math.abs(x - ex!) < 1e-9 && Math.abs(y - ey!) < 1e-9, `point ${i}: ${x},${y}`);
  });
});

padding.run();

const all = suite('masksAt');

all('gives each face present, grown and padded, and each manual mask that applies', () => {
  const recipe = recipeOf(['a']);
  recipe.padding = 0.25;
  recipe.masks = [moving];
  const face = track('a', [[1, 0.2]]);
  const result = masksAt(recipe, [face], 0.5, 1.2);
  assert.is(result.length, 2);
  assert.is(result[0]!.shape, 'ellipse');
  near(result[0]!.box, growBox(box(0.2, 0.5), FACE_GROWTH * 1.25));
  assert.is(result[1]!.shape, 'rectangle');
  near(result[1]!.box, growBox(box(0.1, 0.1, 0.2, 0.2), 1.25));
});

all('covers the whole detected box with the face ellipse at the usual padding', () => {
  const recipe = recipeOf(['a']);
  const detected = box(0.4, 0.4, 0.1, 0.1);
  const face = { id: 'a', points: [{ t: 0, box: detected, score: 1 }] };
  const [ellipse] = masksAt(recipe, [face], 0, 0);
  const cx = ellipse!.box.x + ellipse!.box.w / 2;
  const cy = ellipse!.box.y + ellipse!.box.h / 2;
  for (const [x, y] of [
    [detected.x, detected.y],
    [detected.x + detected.w, detected.y + detected.h],
  ] as const) {
    const reach = ((x - cx) / (ellipse!.box.w / 2)) ** 2 + ((y - cy) / (ellipse!.box.h / 2)) ** 2;
    assert.ok(reach <= 1, `corner ${x},${y} is outside the ellipse (${reach})`);
  }
});

all('draws faces in the shape asked for, a polygon face as an ellipse', () => {
  const face = track('a', [[1, 0.2]]);
  assert.is(masksAt(recipeOf(['a']), [face], 0, 1, 'rectangle')[0]!.shape, 'rectangle');
  assert.is(masksAt(recipeOf(['a']), [face], 0, 1, 'polygon')[0]!.shape, 'ellipse');
});

all('gives nothing when no face or mask is present', () => {
  const recipe = recipeOf(['a']);
  recipe.masks = [moving];
  assert.equal(masksAt(recipe, [track('a', [[1, 0.2]])], 0.5, 8), []);
});

all.run();
