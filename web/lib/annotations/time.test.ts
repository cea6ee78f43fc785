import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { colourOf, formatOffset, initials } from './time.ts';

const offset = suite('formatOffset');

offset('shows minutes, seconds and hundredths, hours when there are any', () => {
  assert.is(formatOffset(0), '0:00.00');
  assert.is(formatOffset(12.345), '0:12.35');
  assert.is(formatOffset(75.5), '1:15.50');
  assert.is(formatOffset(3725), '1:02:05.00');
  assert.is(formatOffset(-3), '0:00.00');
});

const names = suite('initials and colourOf');

names('gives two initials at most and a steady colour per person', () => {
  assert.is(initials('Ivy Investigator'), 'II');
  assert.is(initials('ana maria de souza'), 'AS');
  assert.is(initials('Cher'), 'C');
  assert.is(colourOf('u1'), colourOf('u1'));
  assert.is.not(colourOf('u1'), colourOf('u2'));
});

offset.run();
names.run();
