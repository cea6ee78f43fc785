import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as Y from 'yjs';
import { emptyRecipe, type ManualMask } from '../../../wasm/redact/recipe.ts';
import {
  InvalidRecipe,
  addAudioRange,
  addMask,
  deselectTracks,
  mergeTracks,
  observeRecipe,
  readRecipe,
  readRenders,
  recipeHash,
  recipeSnapshot,
  recordRender,
  redactedItems,
  removeAudioRange,
  removeMask,
  removeMaskKeyframe,
  selectAllTracks,
  selectTracks,
  separateTrack,
  setAnalysis,
  setMaskKeyframe,
  setPadding,
  setRemoveAudio,
  setStyle,
  updateAudioRange,
  updateMask,
} from './redaction-doc.ts';

const CLIP = 'evidence-clip-0001';
const SOURCE = 'a'.repeat(64);
const ANALYSIS = 'b'.repeat(64);
const OTHER_ANALYSIS = 'c'.repeat(64);
const BOX = { x: 0.1, y: 0.1, w: 0.2, h: 0.2 };

function sync(a: Y.Doc, b: Y.Doc): void {
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)));
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)));
}

function plate(change: Partial<ManualMask> = {}): ManualMask {
  return {
    id: 'mask-plate',
    shape: 'rectangle',
    label: ' Plate ',
    from: 1,
    to: 4,
    keyframes: [{ t: 1, box: BOX }],
    ...change,
  };
}

function refuses(work: () => void, message: string): void {
  try {
    work();
    assert.unreachable('accepted');
  } catch (err) {
    assert.instance(err, InvalidRecipe);
    assert.match((err as Error).message, message);
  }
}

const read = suite('readRecipe');

read('an item nobody has touched has the empty recipe for its original', () => {
  assert.equal(readRecipe(new Y.Doc(), CLIP, SOURCE), emptyRecipe(SOURCE));
});

read('reads back everything written, in a fixed order', () => {
  const doc = new Y.Doc();
  setStyle(doc, CLIP, { kind: 'fill', strength: 40, color: '#FF0000' });
  setPadding(doc, CLIP, 0.5);
  setAnalysis(doc, CLIP, ANALYSIS);
  selectTracks(doc, CLIP, ['t3', 't1', 't2']);
  mergeTracks(doc, CLIP, 't1', 't4');
  addMask(doc, CLIP, plate({ id: 'm2', from: 3 }));
  addMask(
    doc,
    CLIP,
    plate({
      id: 'm1',
      from: 2,
      keyframes: [
        { t: 5, box: BOX },
        { t: 2, box: BOX },
      ],
    }),
  );
  addAudioRange(doc, CLIP, { id: 'r2', start: 8, end: 9, mode: 'tone' });
  addAudioRange(doc, CLIP, { id: 'r1', start: 1, end: 2.5, mode: 'mute' });
  setRemoveAudio(doc, CLIP, true);
  const recipe = readRecipe(doc, CLIP, SOURCE);
  assert.equal(recipe.style, { kind: 'fill', strength: 40, color: '#ff0000' });
  assert.is(recipe.padding, 0.5);
  assert.equal(recipe.faces, {
    analysis: ANALYSIS,
    selected: ['t1', 't2', 't3'],
    merges: [['t1', 't4']],
  });
  assert.equal(
    recipe.masks.map((m) => [m.id, m.label, m.from, m.keyframes.map((k) => k.t)]),
    [
      ['m1', 'Plate', 2, [2, 5]],
      ['m2', 'Plate', 3, [1]],
    ],
  );
  assert.equal(recipe.audio, {
    removeTrack: true,
    ranges: [
      { id: 'r1', start: 1, end: 2.5, mode: 'mute' },
      { id: 'r2', start: 8, end: 9, mode: 'tone' },
    ],
  });
  assert.equal(redactedItems(doc), [CLIP]);
});

read('leaves out what another device wrote that makes no sense', () => {
  const doc = new Y.Doc();
  addMask(doc, CLIP, plate());
  const map = doc.getMap<unknown>(`redaction.${CLIP}`);
  map.set('strength', 900);
  map.set('style', 'smudge');
  map.set('padding', -1);
  map.set('analysis', 'not a digest');
  map.set('track:t1', 'yes');
  const broken = new Y.Map<unknown>();
  broken.set('start', 5);
  broken.set('end', 2);
  broken.set('mode', 'mute');
  map.set('audio:r1', broken);
  const recipe = readRecipe(doc, CLIP, SOURCE);
  assert.equal(recipe.style, emptyRecipe(SOURCE).style);
  assert.is(recipe.padding, 0.3);
  assert.is(recipe.faces.analysis, undefined);
  assert.equal(recipe.faces.selected, []);
  assert.equal(recipe.audio.ranges, []);
  assert.is(recipe.masks.length, 1);
});

read('refuses an id that is not an evidence id', () => {
  refuses(() => readRecipe(new Y.Doc(), 'x', SOURCE), 'not an evidence id');
});

read.run();

const style = suite('setStyle and setPadding');

style('refuse values out of range, saying which', () => {
  const doc = new Y.Doc();
  refuses(() => setStyle(doc, CLIP, { strength: 0 }), 'from 1 to 100');
  refuses(() => setStyle(doc, CLIP, { strength: 12.5 }), 'whole number');
  refuses(() => setStyle(doc, CLIP, { color: 'red' }), 'hex colour');
  refuses(() => setStyle(doc, CLIP, { kind: 'smudge' as never }), 'blur, pixelate or fill');
  refuses(() => setPadding(doc, CLIP, 3), 'from 0 to 2');
  refuses(() => setPadding(doc, CLIP, Number.NaN), 'from 0 to 2');
  assert.equal(readRecipe(doc, CLIP, SOURCE), emptyRecipe(SOURCE));
});

style.run();

const faces = suite('face tracks');

faces('select all, none, and all but some', () => {
  const doc = new Y.Doc();
  const all = ['t1', 't2', 't3', 't4'];
  selectAllTracks(doc, CLIP, all);
  assert.equal(readRecipe(doc, CLIP, SOURCE).faces.selected, all);
  selectAllTracks(doc, CLIP, all, ['t2', 't4']);
  assert.equal(readRecipe(doc, CLIP, SOURCE).faces.selected, ['t1', 't3']);
  deselectTracks(doc, CLIP, ['t1']);
  assert.equal(readRecipe(doc, CLIP, SOURCE).faces.selected, ['t3']);
  selectAllTracks(doc, CLIP, []);
  assert.equal(readRecipe(doc, CLIP, SOURCE).faces.selected, []);
});

faces('refuses malformed track ids and merges that make no sense', () => {
  const doc = new Y.Doc();
  refuses(() => selectTracks(doc, CLIP, ['ok', 'has space']), 'not a face track id');
  assert.equal(readRecipe(doc, CLIP, SOURCE).faces.selected, []);
  refuses(() => mergeTracks(doc, CLIP, 't1', 't1'), 'with itself');
  mergeTracks(doc, CLIP, 't1', 't2');
  mergeTracks(doc, CLIP, 't2', 't3');
  refuses(() => mergeTracks(doc, CLIP, 't3', 't1'), 'already merged into t1');
  separateTrack(doc, CLIP, 't2');
  assert.equal(readRecipe(doc, CLIP, SOURCE).faces.merges, [['t2', 't3']]);
});

faces('a new analysis clears the faces chosen from the last one', () => {
  const doc = new Y.Doc();
  setAnalysis(doc, CLIP, ANALYSIS);
  selectTracks(doc, CLIP, ['t1']);
  mergeTracks(doc, CLIP, 't1', 't2');
  setAnalysis(doc, CLIP, ANALYSIS);
  assert.equal(readRecipe(doc, CLIP, SOURCE).faces.selected, ['t1']);
  setAnalysis(doc, CLIP, OTHER_ANALYSIS);
  assert.equal(readRecipe(doc, CLIP, SOURCE).faces, {
    analysis: OTHER_ANALYSIS,
    selected: [],
    merges: [],
  });
  refuses(() => setAnalysis(doc, CLIP, 'abc'), 'SHA-256');
});

faces.run();

const masks = suite('manual masks');

masks('keyframes are set, replaced at the same time, and removed', () => {
  const doc = new Y.Doc();
  addMask(doc, CLIP, plate());
  setMaskKeyframe(doc, CLIP, 'mask-plate', { t: 3, box: { ...BOX, x: 0.5 } });
  setMaskKeyframe(doc, CLIP, 'mask-plate', { t: 3, box: { ...BOX, x: 0.6 } });
  let [mask] = readRecipe(doc, CLIP, SOURCE).masks;
  assert.equal(
    mask?.keyframes.map((k) => [k.t, k.box.x]),
    [
      [1, 0.1],
      [3, 0.6],
    ],
  );
  removeMaskKeyframe(doc, CLIP, 'mask-plate', 1);
  refuses(() => removeMaskKeyframe(doc, CLIP, 'mask-plate', 3), 'at least one keyframe');
  updateMask(doc, CLIP, 'mask-plate', { label: 'Van plate', to: 6, shape: 'ellipse' });
  [mask] = readRecipe(doc, CLIP, SOURCE).masks;
  assert.equal(
    [mask?.label, mask?.to, mask?.shape, mask?.keyframes.length],
    ['Van plate', 6, 'ellipse', 1],
  );
  removeMask(doc, CLIP, 'mask-plate');
  assert.equal(readRecipe(doc, CLIP, SOURCE).masks, []);
});

masks('refuses masks that cannot be drawn, saying why', () => {
  const doc = new Y.Doc();
  refuses(() => addMask(doc, CLIP, plate({ from: 5, to: 2 })), 'cannot end before');
  refuses(() => addMask(doc, CLIP, plate({ from: -1 })), 'seconds, 0 or more');
  refuses(() => addMask(doc, CLIP, plate({ keyframes: [] })), 'at least one keyframe');
  refuses(
    () =>
      addMask(doc, CLIP, plate({ keyframes: [{ t: 1, box: { x: 0.1, y: 0.1, w: 0, h: 0.1 } }] })),
    'a width and a height',
  );
  refuses(
    () =>
      addMask(doc, CLIP, plate({ keyframes: [{ t: 1, box: { x: 1.5, y: 0, w: 0.1, h: 0.1 } }] })),
    'fractions of the picture',
  );
  refuses(() => addMask(doc, CLIP, plate({ id: 'bad id' })), 'not a mask id');
  refuses(
    () =>
      addMask(
        doc,
        CLIP,
        plate({
          shape: 'polygon',
          keyframes: [
            {
              t: 0,
              box: BOX,
              points: [
                [0, 0],
                [1, 1],
              ],
            },
          ],
        }),
      ),
    'at least 3 points',
  );
  const triangle: Array<[number, number]> = [
    [0.1, 0.1],
    [0.3, 0.1],
    [0.2, 0.3],
  ];
  addMask(
    doc,
    CLIP,
    plate({ id: 'poly', shape: 'polygon', keyframes: [{ t: 0, box: BOX, points: triangle }] }),
  );
  refuses(
    () => setMaskKeyframe(doc, CLIP, 'poly', { t: 2, box: BOX, points: [...triangle, [0.1, 0.2]] }),
    'same number of points',
  );
  refuses(() => updateMask(doc, CLIP, 'nope', { label: 'x' }), 'no mask nope');
  refuses(() => updateMask(doc, CLIP, 'poly', { to: -3 }), '0 or more');
  assert.equal(
    readRecipe(doc, CLIP, SOURCE).masks.map((m) => m.id),
    ['poly'],
  );
});

masks.run();

const audio = suite('audio ranges');

audio('are changed and removed one by one', () => {
  const doc = new Y.Doc();
  addAudioRange(doc, CLIP, { id: 'r1', start: 1, end: 2, mode: 'mute' });
  updateAudioRange(doc, CLIP, 'r1', { end: 3, mode: 'tone' });
  assert.equal(readRecipe(doc, CLIP, SOURCE).audio.ranges, [
    { id: 'r1', start: 1, end: 3, mode: 'tone' },
  ]);
  refuses(() => updateAudioRange(doc, CLIP, 'r1', { start: 4 }), 'end after it starts');
  refuses(
    () => addAudioRange(doc, CLIP, { id: 'r2', start: -1, end: 2, mode: 'mute' }),
    '0 or more',
  );
  refuses(
    () => addAudioRange(doc, CLIP, { id: 'r2', start: 1, end: 2, mode: 'beep' as never }),
    'muted or replaced',
  );
  refuses(() => addAudioRange(doc, CLIP, { id: 'r1', start: 5, end: 6, mode: 'mute' }), 'already');
  removeAudioRange(doc, CLIP, 'r1');
  assert.equal(readRecipe(doc, CLIP, SOURCE).audio.ranges, []);
});

audio.run();

const offline = suite('two reviewers editing offline');

offline('both keep their changes when their devices meet', () => {
  const a = new Y.Doc();
  const b = new Y.Doc();
  setAnalysis(a, CLIP, ANALYSIS);
  addMask(a, CLIP, plate());
  addAudioRange(a, CLIP, { id: 'r1', start: 1, end: 2, mode: 'mute' });
  sync(a, b);
  // Offline from here on.
  selectTracks(a, CLIP, ['t1']);
  selectTracks(b, CLIP, ['t2']);
  mergeTracks(b, CLIP, 't3', 't4');
  setStyle(a, CLIP, { strength: 90 });
  setStyle(b, CLIP, { color: '#00ff00' });
  setPadding(b, CLIP, 0.6);
  setMaskKeyframe(a, CLIP, 'mask-plate', { t: 2, box: { ...BOX, x: 0.3 } });
  setMaskKeyframe(b, CLIP, 'mask-plate', { t: 3, box: { ...BOX, x: 0.5 } });
  updateMask(a, CLIP, 'mask-plate', { label: 'Plate of the van' });
  updateMask(b, CLIP, 'mask-plate', { to: 9 });
  updateAudioRange(a, CLIP, 'r1', { end: 4 });
  updateAudioRange(b, CLIP, 'r1', { mode: 'tone' });
  addAudioRange(b, CLIP, { id: 'r2', start: 6, end: 7, mode: 'mute' });
  addMask(b, CLIP, plate({ id: 'mask-face', label: 'Face in window' }));
  sync(a, b);

  const merged = readRecipe(a, CLIP, SOURCE);
  assert.equal(readRecipe(b, CLIP, SOURCE), merged);
  assert.equal(merged.faces.selected, ['t1', 't2']);
  assert.equal(merged.faces.merges, [['t3', 't4']]);
  assert.equal(merged.style, { kind: 'blur', strength: 90, color: '#00ff00' });
  assert.is(merged.padding, 0.6);
  const plateMask = merged.masks.find((m) => m.id === 'mask-plate');
  assert.equal(
    plateMask?.keyframes.map((k) => k.t),
    [1, 2, 3],
  );
  assert.equal([plateMask?.label, plateMask?.to], ['Plate of the van', 9]);
  assert.equal(merged.masks.map((m) => m.id).sort(), ['mask-face', 'mask-plate']);
  assert.equal(merged.audio.ranges, [
    { id: 'r1', start: 1, end: 4, mode: 'tone' },
    { id: 'r2', start: 6, end: 7, mode: 'mute' },
  ]);
});

offline('a mask removed on one device and changed on the other stays removed', () => {
  const a = new Y.Doc();
  const b = new Y.Doc();
  addMask(a, CLIP, plate());
  sync(a, b);
  removeMask(a, CLIP, 'mask-plate');
  setMaskKeyframe(b, CLIP, 'mask-plate', { t: 2, box: BOX });
  sync(a, b);
  assert.equal(readRecipe(a, CLIP, SOURCE).masks, []);
  assert.equal(readRecipe(b, CLIP, SOURCE).masks, []);
});

offline.run();

const renders = suite('recordRender and recipe snapshots');

renders('records each redacted copy beside the recipe', async () => {
  const doc = new Y.Doc();
  selectTracks(doc, CLIP, ['t1']);
  const hash = await recipeHash(readRecipe(doc, CLIP, SOURCE));
  recordRender(doc, CLIP, {
    resultEvidenceId: 'evidence-copy-0001',
    sha256: 'd'.repeat(64),
    recipeHash: hash,
    by: { id: 'u1', name: 'Ivy' },
    at: '2026-11-26T03:00:00.000Z',
  });
  assert.equal(readRenders(doc, CLIP), [
    {
      resultEvidenceId: 'evidence-copy-0001',
      sha256: 'd'.repeat(64),
      recipeHash: hash,
      by: { id: 'u1', name: 'Ivy' },
      at: '2026-11-26T03:00:00.000Z',
    },
  ]);
  // A render record is not part of the recipe: the recipe hashes the same after it.
  assert.is(await recipeHash(readRecipe(doc, CLIP, SOURCE)), hash);
  refuses(
    () =>
      recordRender(doc, CLIP, {
        resultEvidenceId: 'evidence-copy-0002',
        sha256: 'nope',
        recipeHash: hash,
        by: { id: 'u1', name: 'Ivy' },
        at: 'now',
      }),
    'SHA-256',
  );
});

renders(
  'equal recipes written in a different order snapshot the same; any change differs',
  async () => {
    const a = new Y.Doc();
    const b = new Y.Doc();
    selectTracks(a, CLIP, ['t1', 't2']);
    addAudioRange(a, CLIP, { id: 'r1', start: 1, end: 2, mode: 'mute' });
    addAudioRange(a, CLIP, { id: 'r2', start: 3, end: 4, mode: 'mute' });
    addAudioRange(b, CLIP, { id: 'r2', start: 3, end: 4, mode: 'mute' });
    addAudioRange(b, CLIP, { id: 'r1', start: 1, end: 2, mode: 'mute' });
    selectTracks(b, CLIP, ['t2']);
    selectTracks(b, CLIP, ['t1']);
    const ra = readRecipe(a, CLIP, SOURCE);
    assert.is(recipeSnapshot(ra), recipeSnapshot(readRecipe(b, CLIP, SOURCE)));
    assert.equal(JSON.parse(recipeSnapshot(ra)), ra);
    const before = await recipeHash(ra);
    assert.match(before, /^[0-9a-f]{64}$/);
    setStyle(b, CLIP, { strength: 61 });
    assert.is.not(await recipeHash(readRecipe(b, CLIP, SOURCE)), before);
  },
);

renders.run();

const observe = suite('observeRecipe');

observe('tells of every change, from this device or another, until stopped', () => {
  const a = new Y.Doc();
  const b = new Y.Doc();
  const seen: number[] = [];
  const stop = observeRecipe(a, CLIP, SOURCE, (recipe) => seen.push(recipe.faces.selected.length));
  selectTracks(a, CLIP, ['t1']);
  selectTracks(b, CLIP, ['t2']);
  sync(a, b);
  addMask(b, CLIP, plate());
  sync(a, b);
  assert.equal(seen, [0, 1, 2, 2]);
  stop();
  deselectTracks(a, CLIP, ['t1']);
  assert.is(seen.length, 4);
});

observe.run();
