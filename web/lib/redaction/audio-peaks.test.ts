import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PeakReducer } from './audio-peaks.ts';

const reducer = suite('PeakReducer');

/** A chunk of `seconds` of a constant level, at 100 samples a second. */
const level = (value: number, seconds: number) =>
  new Float32Array(Math.round(seconds * 100)).fill(value);

reducer('puts each chunk’s loudest sample in the bucket of its time', () => {
  const peaks = new PeakReducer(4, 4);
  peaks.add(0, 100, [level(0.1, 1)], 100);
  peaks.add(1, 100, [level(-0.8, 1)], 100);
  peaks.add(2, 100, [level(0.3, 2)], 200);
  assert.equal(
    [...peaks.peaks].map((v) => Math.round(v * 10) / 10),
    [0.1, 0.8, 0.3, 0.3],
  );
});

reducer('takes the loudest of all channels and ignores buffer space beyond the chunk', () => {
  const peaks = new PeakReducer(2, 2);
  const left = new Float32Array(400).fill(0.9);
  left.fill(0.2, 0, 100);
  const right = new Float32Array(400).fill(0.4);
  peaks.add(0, 100, [left, right], 100);
  assert.equal(
    [...peaks.peaks].map((v) => Math.round(v * 10) / 10),
    [0.4, 0],
  );
});

reducer('accepts chunks in any order and splits a chunk across buckets', () => {
  const peaks = new PeakReducer(1, 10);
  const ramp = Float32Array.from({ length: 100 }, (_, i) => i / 100);
  peaks.add(0.5, 100, [ramp.subarray(0, 50)], 50);
  peaks.add(0, 100, [ramp.subarray(50)], 50);
  assert.equal(
    [...peaks.peaks].map((v) => Math.round(v * 100) / 100),
    [0.59, 0.69, 0.79, 0.89, 0.99, 0.09, 0.19, 0.29, 0.39, 0.49],
  );
});

reducer('drops sound outside the duration (a negative start, a trailing packet)', () => {
  const peaks = new PeakReducer(1, 2);
  peaks.add(-0.5, 100, [level(1, 0.5)], 50);
  peaks.add(1, 100, [level(1, 0.5)], 50);
  assert.equal([...peaks.peaks], [0, 0]);
});

reducer.run();
