import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatTime, parseTime } from './time-text.ts';

const parse = suite('parseTime');

parse('reads plain seconds, minutes and seconds, and hours too', () => {
  assert.is(parseTime('12.5'), 12.5);
  assert.is(parseTime(' 7 '), 7);
  assert.is(parseTime('1:02.25'), 62.25);
  assert.is(parseTime('1:02:03.5'), 3723.5);
  assert.is(parseTime('0,75'), 0.75);
});

parse('refuses what is not a time', () => {
  assert.is(parseTime(''), undefined);
  assert.is(parseTime('abc'), undefined);
  assert.is(parseTime('-3'), undefined);
  assert.is(parseTime('1:75'), undefined);
  assert.is(parseTime('1:2:3:4'), undefined);
});

parse.run();

const format = suite('formatTime');

format('writes minutes and seconds to the millisecond, hours when there are any', () => {
  assert.is(formatTime(0), '0:00.000');
  assert.is(formatTime(62.25), '1:02.250');
  assert.is(formatTime(3723.5), '1:02:03.500');
  assert.is(formatTime(Number.NaN), '0:00.000');
});

format('reads back what it writes', () => {
  for (const seconds of [0.001, 59.999, 61.5, 7322.042])
    assert.is(parseTime(formatTime(seconds)), seconds);
});

format.run();
