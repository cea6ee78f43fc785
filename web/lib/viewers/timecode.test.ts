import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatTimecode, frameAt, frameStepTarget, nextRate, recordedAt } from './timecode.ts';

const timecode = suite('formatTimecode');

timecode('writes hours, minutes, seconds and the frame within the second', () => {
  assert.is(formatTimecode(0, 25), '00:00:00:00');
  assert.is(formatTimecode(0.12, 25), '00:00:00:03');
  assert.is(formatTimecode(3723.96, 25), '01:02:03:24');
  assert.is(formatTimecode(59.999, 29.97), '00:00:59:29');
});

timecode('shows zero for times that are not yet known', () => {
  assert.is(formatTimecode(Number.NaN, 25), '00:00:00:00');
  assert.is(formatTimecode(-1, 25), '00:00:00:00');
});

timecode.run();

const frames = suite('frameAt and frameStepTarget');

frames('counts the frame whose interval holds the time, despite floating point', () => {
  assert.is(frameAt(0.12, 25), 3);
  assert.is(frameAt(0.1199999, 25), 3);
  assert.is(frameAt(0.119, 25), 2);
});

frames('steps to the middle of the next or previous frame', () => {
  assert.is(frameStepTarget(0, 1, 25, 2), 0.06);
  assert.is(frameStepTarget(0.06, 1, 25, 2), 0.1);
  assert.is(frameStepTarget(0.1, -1, 25, 2), 0.06);
});

frames('stays on the first and the last frame', () => {
  assert.is(frameStepTarget(0.02, -1, 25, 2), 0.02);
  assert.is(frameStepTarget(1.98, 1, 25, 2), 1.98);
  assert.is(frameStepTarget(1.98, 5, 25, undefined), 2.18);
});

frames.run();

const recorded = suite('recordedAt');

recorded('adds the time into the recording to its start, in the camera’s own terms', () => {
  assert.is(recordedAt('2024-05-01T22:59:59', 1.5), '2024-05-01 23:00:00.500');
  assert.is(recordedAt('2024-05-01T23:59:59.250+02:00', 1), '2024-05-02 00:00:00.250 +02:00');
  assert.is(recordedAt('2024-05-01T10:00:00Z', 0), '2024-05-01 10:00:00.000 UTC');
});

recorded('is unknown without a readable start', () => {
  assert.is(recordedAt(undefined, 3), undefined);
  assert.is(recordedAt('yesterday', 3), undefined);
});

recorded.run();

const rates = suite('nextRate');

rates('moves along the speeds and stops at 0.1× and 4×', () => {
  assert.is(nextRate(1, 1), 1.5);
  assert.is(nextRate(1, -1), 0.75);
  assert.is(nextRate(4, 1), 4);
  assert.is(nextRate(0.1, -1), 0.1);
  assert.is(nextRate(1.2, 1), 1.5);
});

rates.run();
