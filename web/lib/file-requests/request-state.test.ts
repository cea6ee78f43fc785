import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  dateInputValue,
  endOfDay,
  extensionDefault,
  publicLink,
  requestState,
  toBytes,
} from './request-state.ts';

const NOW = new Date('2026-03-10T12:00:00Z');
const OPEN = {
  status: 'open' as const,
  expiresAt: '2026-04-01T00:00:00Z',
  filesReserved: 2,
  maxFiles: 20,
  bytesReserved: 1000,
  maxBytes: 5000,
};

const state = suite('requestState');

state('is open while the link takes files', () => {
  assert.is(requestState(OPEN, NOW), 'open');
});

state('says withdrawn before anything else', () => {
  assert.is(
    requestState({ ...OPEN, status: 'revoked', expiresAt: '2026-01-01T00:00:00Z' }, NOW),
    'withdrawn',
  );
});

state('says expired once the expiry has passed, paused or not', () => {
  assert.is(requestState({ ...OPEN, expiresAt: NOW.toISOString() }, NOW), 'expired');
  assert.is(
    requestState({ ...OPEN, status: 'paused', expiresAt: '2026-03-01T00:00:00Z' }, NOW),
    'expired',
  );
});

state('says paused for a paused request still within its time', () => {
  assert.is(requestState({ ...OPEN, status: 'paused' }, NOW), 'paused');
});

state('says full when announced files reach either limit', () => {
  assert.is(requestState({ ...OPEN, filesReserved: 20 }, NOW), 'full');
  assert.is(requestState({ ...OPEN, bytesReserved: 5000 }, NOW), 'full');
});

state.run();

const dates = suite('request dates');

dates('gives a date input value days ahead, in local time', () => {
  assert.is(dateInputValue(new Date(2026, 0, 30), 30), '2026-03-01');
  assert.is(dateInputValue(new Date(2026, 11, 31)), '2026-12-31');
});

dates('runs a chosen day to its last second, local time', () => {
  const iso = endOfDay('2026-04-09');
  assert.ok(iso);
  const date = new Date(iso);
  assert.is(date.getDate(), 9);
  assert.is(date.getHours(), 23);
  assert.is(date.getMinutes(), 59);
});

dates('refuses what is not a date', () => {
  assert.is(endOfDay(''), undefined);
  assert.is(endOfDay('2026-13-45'), undefined);
});

dates('extends from the expiry, or from now when it has passed', () => {
  assert.is(extensionDefault(new Date(2026, 3, 1, 12).toISOString(), NOW), '2026-05-01');
  assert.is(extensionDefault('2026-01-01T00:00:00Z', new Date(2026, 2, 10)), '2026-04-09');
});

dates.run();

const misc = suite('links and sizes');

misc('makes the short public link', () => {
  assert.is(
    publicLink('https://exhibit.example', 'ABCDEFGHJK23'),
    'https://exhibit.example/r/ABCDEFGHJK23',
  );
});

misc('counts sizes in decimal units', () => {
  assert.is(toBytes(2, 'GB'), 2_000_000_000);
  assert.is(toBytes(1.5, 'MB'), 1_500_000);
});

misc.run();
