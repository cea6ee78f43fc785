import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { InvalidDocName, decodeDocName, encodeDocName, isServerOwned, newId } from './doc-names.ts';

const decode = suite('decodeDocName');

decode('reads the case index and case documents', () => {
  assert.equal(decodeDocName('cases'), { kind: 'cases' });
  assert.equal(decodeDocName('case.0123456789abcdef'), { kind: 'case', id: '0123456789abcdef' });
});

decode('rejects unknown kinds, malformed ids and path tricks with a named error', () => {
  for (const name of [
    '',
    'case',
    'case.',
    'case.short',
    'case.../../etc',
    'users.12345678',
    'case.a b c d e f',
    `case.${'x'.repeat(65)}`,
    'cases.extra',
    'case.\u0000aaaaaaaa',
  ]) {
    assert.throws(
      () => decodeDocName(name),
      (err: unknown) => err instanceof InvalidDocName,
      name,
    );
  }
});

decode.run();

const encode = suite('encodeDocName');

encode('round-trips through decodeDocName', () => {
  const id = newId();
  assert.equal(decodeDocName(encodeDocName({ kind: 'case', id })), { kind: 'case', id });
  assert.is(encodeDocName({ kind: 'cases' }), 'cases');
});

encode('refuses an id that could not be decoded again', () => {
  assert.throws(
    () => encodeDocName({ kind: 'case', id: 'a/b' }),
    (err: unknown) => err instanceof InvalidDocName,
  );
});

encode.run();

const owned = suite('isServerOwned');

owned('marks the case index as server-owned and cases as not', () => {
  assert.ok(isServerOwned({ kind: 'cases' }));
  assert.not.ok(isServerOwned({ kind: 'case', id: newId() }));
});

owned.run();

const ids = suite('newId');

ids('makes distinct 32-hex-digit ids', () => {
  const seen = new Set(Array.from({ length: 1000 }, () => newId()));
  assert.is(seen.size, 1000);
  for (const id of seen) assert.match(id, /^[0-9a-f]{32}$/);
});

ids.run();
