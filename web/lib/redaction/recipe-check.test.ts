import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { emptyRecipe, type FaceAnalysis, type FaceTrack } from '../../../wasm/redact/recipe.ts';
import {
  BadAnalysis,
  RecipeProblem,
  checkRenderable,
  faceGroups,
  parseAnalysis,
  renderProblem,
} from './recipe-check.ts';

const SOURCE = 'a'.repeat(64);
const STORED = 'b'.repeat(64);

function track(id: string, ...times: number[]): FaceTrack {
  return {
    id,
    points: times.map((t) => ({ t, box: { x: 0.1, y: 0.1, w: 0.1, h: 0.1 }, score: 0.9 })),
  };
}

function analysis(tracks: FaceTrack[] = [track('t1', 0, 1), track('t2', 2, 3)]): FaceAnalysis {
  return {
    version: 1,
    source: SOURCE,
    width: 320,
    height: 240,
    frameRate: 25,
    frames: 100,
    detector: { model: 'm', step: 1, scanEvery: 5, minScore: 0.3 },
    hold: 0.2,
    tracks,
  };
}

function recipe(change: (r: ReturnType<typeof emptyRecipe>) => void = () => undefined) {
  const r = emptyRecipe(SOURCE);
  change(r);
  return r;
}

const problems = suite('renderProblem');

problems('an empty recipe has nothing to redact', () => {
  assert.match(renderProblem(recipe(), undefined) ?? '', 'Nothing to redact yet');
});

problems('masks or audio alone need no analysis', () => {
  assert.is(
    renderProblem(
      recipe((r) => (r.audio.removeTrack = true)),
      undefined,
    ),
    undefined,
  );
  assert.is(
    renderProblem(
      recipe((r) => r.audio.ranges.push({ id: 'r', start: 0, end: 1, mode: 'mute' })),
      undefined,
    ),
    undefined,
  );
});

problems('faces need the analysis they came from, and every one must be in it', () => {
  const chosen = (ids: string[]) =>
    recipe((r) => {
      r.faces.analysis = STORED;
      r.faces.selected = ids;
    });
  assert.is(renderProblem(chosen(['t1']), analysis()), undefined);
  assert.match(renderProblem(chosen(['t1', 't9']), analysis()) ?? '', 'does not have (t9)');
  assert.match(renderProblem(chosen(['t1']), undefined) ?? '', 'not loaded');
  assert.match(
    renderProblem(chosen(['t1']), { ...analysis(), source: 'c'.repeat(64) }) ?? '',
    'another file',
  );
  const noAnalysis = recipe((r) => (r.faces.selected = ['t1']));
  assert.match(renderProblem(noAnalysis, analysis()) ?? '', 'names no face analysis');
  const badMerge = chosen(['t1']);
  badMerge.faces.merges.push(['t1', 'gone']);
  assert.match(renderProblem(badMerge, analysis()) ?? '', '(gone)');
});

problems('checkRenderable throws a RecipeProblem with the same words', () => {
  try {
    checkRenderable(recipe(), undefined);
    assert.unreachable('rendered nothing');
  } catch (err) {
    assert.instance(err, RecipeProblem);
    assert.match((err as Error).message, 'Nothing to redact');
  }
});

problems.run();

const parse = suite('parseAnalysis');

parse('reads back an analysis written as JSON', () => {
  assert.equal(parseAnalysis(JSON.stringify(analysis()), SOURCE), analysis());
});

parse('refuses what is not an analysis of this file, saying what is wrong', () => {
  const refused = (text: string, message: string) => {
    try {
      parseAnalysis(text, SOURCE);
      assert.unreachable('accepted');
    } catch (err) {
      assert.instance(err, BadAnalysis);
      assert.match((err as Error).message, message);
    }
  };
  refused('{', 'not JSON');
  refused(JSON.stringify({ ...analysis(), version: 2 }), 'not one this version');
  refused(JSON.stringify({ ...analysis(), source: STORED }), 'another file');
  refused(JSON.stringify({ ...analysis(), frameRate: 'fast' }), 'frame size, rate');
  refused(
    JSON.stringify({ ...analysis(), tracks: [{ id: 't1', points: [{ t: 0, score: 1 }] }] }),
    'malformed face tracks',
  );
});

parse.run();

const groups = suite('faceGroups');

groups('folds merged tracks into the face they were merged into, in order of appearance', () => {
  const a = analysis([track('late', 5, 6), track('early', 0, 1), track('again', 8, 9)]);
  const result = faceGroups(a, [
    ['early', 'again'],
    ['early', 'unknown'],
  ]);
  assert.equal(
    result.map((g) => [g.track.id, g.merged.map((t) => t.id)]),
    [
      ['early', ['again']],
      ['late', []],
    ],
  );
});

groups.run();
