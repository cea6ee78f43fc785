import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { applyAudioRanges, TONE_HZ, TONE_LEVEL, touchesRanges } from './audio-edit.ts';
import type { AudioRange } from './recipe.ts';

const RATE = 48_000;

/** Channels of speech-like noise: no sample is 0, so a muted one shows. */
function channels(count: number, length: number): Float32Array[] {
  return Array.from({ length: count }, (_, c) =>
    Float32Array.from({ length }, (_, i) => 0.1 + 0.5 * Math.abs(Math.sin(i * 0.37 + c))),
  );
}

const mute = (start: number, end: number): AudioRange => ({ id: 'r', start, end, mode: 'mute' });
const tone = (start: number, end: number): AudioRange => ({ id: 'r', start, end, mode: 'tone' });

const applying = suite('applyAudioRanges');

applying('mutes exactly the samples inside the range, on every channel', () => {
  // The chunk starts at 1 s; the range is 1.1 s to 1.2 s: samples 4800 to 9599.
  for (const [start, from, to] of [
    [1, 4800, 9600],
    [0, 52_800, 57_600],
    [1.05, 2400, 7200],
  ] as const) {
    const planes = channels(2, RATE * 2);
    const before = planes.map((plane) => plane.slice());
    applyAudioRanges(planes, RATE, start, [mute(1.1, 1.2)]);
    planes.forEach((plane, c) => {
      const changed = plane.map((value, i) => (value === before[c]![i] ? 0 : 1));
      const first = changed.indexOf(1);
      const last = changed.lastIndexOf(1);
      assert.equal([first, last + 1], [from, to], `chunk at ${start} s, channel ${c}`);
      assert.ok(
        plane.subarray(from, to).every((value) => value === 0),
        'every sample inside is 0',
      );
    });
  }
});

applying('replaces a range with a 1 kHz tone at TONE_LEVEL', () => {
  const [plane] = channels(1, RATE);
  applyAudioRanges([plane!], RATE, 0, [tone(0.25, 0.75)]);
  const inside = plane!.subarray(RATE / 4, (RATE * 3) / 4);
  const peak = inside.reduce((most, value) => Math.max(most, Math.abs(value)), 0);
  assert.ok(Math.abs(peak - TONE_LEVEL) < 1e-3, `peak ${peak}`);
  let rising = 0;
  for (let i = 1; i < inside.length; i++) if (inside[i - 1]! < 0 && inside[i]! >= 0) rising++;
  // Half a second of 1 kHz: 500 cycles.
  assert.ok(Math.abs(rising - TONE_HZ / 2) <= 1, `${rising} cycles in half a second`);
  for (let i = 0; i < inside.length; i += 997) {
    const t = 0.25 + i / RATE;
    assert.ok(Math.abs(inside[i]! - TONE_LEVEL * Math.sin(2 * Math.PI * TONE_HZ * t)) < 1e-6);
  }
});

applying('continues the tone’s phase across chunks, wherever the audio is split', () => {
  const whole = channels(2, RATE);
  applyAudioRanges(whole, RATE, 3, [tone(3.1, 3.9)]);
  for (const split of [1, 12_345, 24_001, RATE - 7]) {
    const planes = channels(2, RATE);
    const first = planes.map((plane) => plane.subarray(0, split));
    const second = planes.map((plane) => plane.slice(split));
    applyAudioRanges(first, RATE, 3, [tone(3.1, 3.9)]);
    applyAudioRanges(second, RATE, 3 + split / RATE, [tone(3.1, 3.9)]);
    planes.forEach((plane, c) => {
      plane.set(second[c]!, split);
      for (let i = 0; i < RATE; i++) {
        if (Math.abs(plane[i]! - whole[c]![i]!) > 1e-6) {
          assert.unreachable(
            `split at ${split}, channel ${c}, sample ${i}: ${plane[i]} ≠ ${whole[c]![i]}`,
          );
        }
      }
    });
  }
});

applying('changes nothing for ranges outside the chunk', () => {
  const planes = channels(2, RATE);
  const before = planes.map((plane) => plane.slice());
  applyAudioRanges(planes, RATE, 10, [mute(0, 10), tone(11, 12), mute(10.5, 10.5)]);
  assert.equal(planes, before);
});

applying('handles a range that begins before the chunk and ends after it', () => {
  const planes = channels(3, 4800);
  applyAudioRanges(planes, RATE, 5, [mute(4, 6)]);
  assert.ok(planes.every((plane) => plane.every((value) => value === 0)));
});

applying('does nothing to no channels', () => {
  applyAudioRanges([], RATE, 0, [mute(0, 1)]);
});

applying.run();

const touching = suite('touchesRanges');

touching('tells whether any range overlaps the chunk', () => {
  const ranges = [mute(2, 3), tone(5, 6)];
  assert.ok(touchesRanges(ranges, 2.5, 0.1), 'inside');
  assert.ok(touchesRanges(ranges, 1.5, 1), 'across the start');
  assert.ok(touchesRanges(ranges, 5.9, 1), 'across the end');
  assert.ok(touchesRanges(ranges, 0, 10), 'around');
  assert.not.ok(touchesRanges(ranges, 3, 2), 'between, touching the end of one and start of next');
  assert.not.ok(touchesRanges(ranges, 1, 1), 'just before');
  assert.not.ok(touchesRanges([], 0, 10), 'no ranges');
});

touching.run();
