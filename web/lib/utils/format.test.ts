import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatDuration, formatRate } from './format.ts';

const duration = suite('formatDuration');

duration('says seconds, minutes and hours the way a person would', () => {
  assert.is(formatDuration(0.4), '0 s');
  assert.is(formatDuration(45), '45 s');
  assert.is(formatDuration(200), '3 min 20 s');
  assert.is(formatDuration(180), '3 min');
  assert.is(formatDuration(7500), '2 h 5 min');
  assert.is(formatDuration(7200), '2 h');
  assert.is(formatDuration(-3), '0 s');
});

duration.run();

const rate = suite('formatRate');

rate('gives bytes per second in the units of formatBytes', () => {
  assert.is(formatRate(2_100_000), '2.1 MB/s');
  assert.is(formatRate(512.4), '512 B/s');
});

rate.run();
