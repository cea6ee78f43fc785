import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { alignClips, clipPosition } from './clip-alignment.ts';

const align = suite('alignClips');

align('places clips by their recorded starts, the earliest at zero', () => {
  const timeline = alignClips([
    { id: 'b', capturedAt: '2024-05-01T10:00:05Z', duration: 10, offset: 0 },
    { id: 'a', capturedAt: '2024-05-01T10:00:00Z', duration: 8, offset: 0 },
  ]);
  assert.equal(
    timeline.clips.map((c) => [c.id, c.start, c.duration]),
    [
      ['b', 5, 10],
      ['a', 0, 8],
    ],
  );
  assert.is(timeline.duration, 15);
  assert.is(timeline.startsAt, Date.parse('2024-05-01T10:00:00Z'));
});

align('compares clocks across offsets, and reads times without one alike', () => {
  const timeline = alignClips([
    { id: 'a', capturedAt: '2024-05-01T12:00:00+02:00', duration: 4, offset: 0 },
    { id: 'b', capturedAt: '2024-05-01T10:00:02', duration: 4, offset: 0 },
  ]);
  assert.equal(
    timeline.clips.map((c) => c.start),
    [0, 2],
  );
});

align('shifts a clip by its manual offset, even before the others', () => {
  const timeline = alignClips([
    { id: 'a', capturedAt: '2024-05-01T10:00:00Z', duration: 4, offset: 0 },
    { id: 'b', capturedAt: '2024-05-01T10:00:01Z', duration: 4, offset: -3 },
  ]);
  assert.equal(
    timeline.clips.map((c) => c.start),
    [2, 0],
  );
  assert.is(timeline.duration, 6);
  assert.is(timeline.startsAt, Date.parse('2024-05-01T09:59:58Z'));
});

align('starts clips without a recorded time with the timeline', () => {
  const timeline = alignClips([
    { id: 'a', capturedAt: undefined, duration: 3, offset: 0 },
    { id: 'b', capturedAt: 'not a date', duration: undefined, offset: 1 },
  ]);
  assert.equal(
    timeline.clips.map((c) => [c.start, c.duration, c.timed]),
    [
      [0, 3, false],
      [1, 0, false],
    ],
  );
  assert.is(timeline.startsAt, undefined);
});

align.run();

const position = suite('clipPosition');

position('says whether the timeline is before, in or after a clip', () => {
  const clip = { id: 'a', start: 2, duration: 3, timed: true };
  assert.equal(clipPosition(clip, 1), { state: 'before' });
  assert.equal(clipPosition(clip, 2.5), { state: 'playing', seconds: 0.5 });
  assert.equal(clipPosition(clip, 5), { state: 'after' });
});

position.run();
