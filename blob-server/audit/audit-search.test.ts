import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AuditRecord } from './audit-log.ts';
import { csvLine, matches } from './audit-search.ts';

const entry: AuditRecord = {
  seq: 7,
  time: '2026-11-25T10:00:00.000Z',
  action: 'evidence.played',
  actor: { userId: 'u-1', email: 'dana@agency.example' },
  target: 'sha256:abc',
  details: { note: 'said "hi", then left' },
  prevHash: '0'.repeat(64),
  hash: 'f'.repeat(64),
};

test('filters by action family, actor id or email, target and time', () => {
  assert.ok(matches(entry, {}));
  assert.ok(matches(entry, { action: 'evidence' }));
  assert.ok(matches(entry, { action: 'evidence.played' }));
  assert.not.ok(matches(entry, { action: 'evid' }));
  assert.ok(matches(entry, { actor: 'u-1' }));
  assert.ok(matches(entry, { actor: 'DANA@' }));
  assert.not.ok(matches(entry, { actor: 'u-2' }));
  assert.ok(matches(entry, { target: 'ABC' }));
  assert.ok(matches(entry, { from: '2026-11-25T00:00:00Z', to: '2026-11-25T23:59:59Z' }));
  assert.not.ok(matches(entry, { from: '2026-11-26T00:00:00Z' }));
});

test('writes CSV that spreadsheets neither split wrongly nor execute', () => {
  assert.is(
    csvLine(entry),
    `7,2026-11-25T10:00:00.000Z,evidence.played,u-1,dana@agency.example,sha256:abc,,,"{""note"":""said \\""hi\\"", then left""}",${'f'.repeat(64)}\r\n`,
  );
  assert.match(csvLine({ ...entry, target: '=HYPERLINK("x")' }), /,"'=HYPERLINK\(""x""\)",/);
});

test.run();
