import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { estimator, RedactionCancelled } from './progress.ts';

/** A clock the test moves by hand, in milliseconds like performance.now(). */
function clock(startMs = 5_000) {
  let now = startMs;
  return {
    now: () => now,
    advance(seconds: number) {
      now += seconds * 1000;
    },
  };
}

const estimating = suite('estimator');

estimating('has no estimate before 2% of the work or 2 seconds', () => {
  const time = clock();
  const progress = estimator('rendering', time.now);
  time.advance(1);
  assert.equal(progress(10, 1000), {
    phase: 'rendering',
    done: 10,
    total: 1000,
    secondsLeft: null,
  });
});

estimating('estimates from the rate so far once 2% is done', () => {
  const time = clock();
  const progress = estimator('analysing', time.now);
  time.advance(1);
  // 25% in 1 s: 3 s to go.
  assert.is(progress(250, 1000).secondsLeft, 3);
  time.advance(1);
  // 50% in 2 s: 2 s to go.
  assert.is(progress(500, 1000).secondsLeft, 2);
});

estimating('estimates after 2 seconds even when less than 2% is done', () => {
  const time = clock();
  const progress = estimator('rendering', time.now);
  time.advance(2);
  // 1% in 2 s: 198 s to go.
  const left = progress(10, 1000).secondsLeft;
  assert.ok(left !== null && Math.abs(left - 198) < 1e-9, `${left}`);
});

estimating('counts time from when it was made, not from the first report', () => {
  const time = clock();
  const progress = estimator('rendering', time.now);
  time.advance(4);
  assert.is(progress(500, 1000).secondsLeft, 4);
});

estimating('has no estimate while nothing is done or the total is unknown', () => {
  const time = clock();
  const progress = estimator('rendering', time.now);
  time.advance(10);
  assert.is(progress(0, 1000).secondsLeft, null);
  assert.is(progress(10, 0).secondsLeft, null);
});

estimating('says no time is left when done, and never less than none', () => {
  const time = clock();
  const progress = estimator('rendering', time.now);
  time.advance(3);
  assert.is(progress(1000, 1000).secondsLeft, 0);
  // Frame counts from a container are estimates: more frames can come than it said.
  assert.is(progress(1010, 1000).secondsLeft, 0);
});

estimating.run();

const cancelling = suite('RedactionCancelled');

cancelling('is an AbortError, which the UI’s error funnel ignores', () => {
  const error = new RedactionCancelled();
  assert.instance(error, Error);
  assert.is(error.name, 'AbortError');
  assert.is(error.message, 'The redaction was cancelled.');
});

cancelling.run();
