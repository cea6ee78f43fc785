import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { InvalidKey } from '../errors.ts';
import { assertValidPrefix, decodeBlobKey, encodeBlobKey, sha256Key } from './keys.ts';

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    assert.instance(err, InvalidKey);
    return (err as Error).message;
  }
  return assert.unreachable('expected InvalidKey') as never;
}

const encode = suite('encodeBlobKey / decodeBlobKey');

encode('round-trips segments through a key', () => {
  const segments = ['cases', 'c-42', 'evidence', 'IMG_0001.jpeg'];
  const key = encodeBlobKey(segments);
  assert.is(key, 'cases/c-42/evidence/IMG_0001.jpeg');
  assert.equal(decodeBlobKey(key), segments);
});

encode('says which segment is wrong and why', () => {
  assert.match(
    refusal(() => encodeBlobKey([])),
    'no segments',
  );
  assert.match(
    refusal(() => encodeBlobKey(['a', ''])),
    'segment 2 is empty',
  );
  assert.match(
    refusal(() => encodeBlobKey(['a', '..'])),
    'segment 2 is ".."',
  );
  assert.match(
    refusal(() => encodeBlobKey(['.'])),
    'segment 1 is "."',
  );
  assert.match(
    refusal(() => encodeBlobKey(['a/b'])),
    'the character "/"',
  );
  assert.match(
    refusal(() => encodeBlobKey(['café'])),
    'the character "é"',
  );
  assert.match(
    refusal(() => encodeBlobKey(['x'.repeat(256)])),
    '256 characters long',
  );
  assert.match(
    refusal(() => encodeBlobKey(Array(600).fill('ab'))),
    'at most 1024',
  );
});

encode('accepts the longest allowed segment and key', () => {
  assert.is(encodeBlobKey(['x'.repeat(255)]).length, 255);
  const segments = Array(4).fill('y'.repeat(255)) as string[];
  assert.is(decodeBlobKey(encodeBlobKey(segments)).length, 4);
});

encode('refuses malformed keys when decoding', () => {
  for (const key of ['', '/a', 'a/', 'a//b', 'a/../b', './a', 'a b', 'a\\b', 'a\0b']) {
    refusal(() => decodeBlobKey(key));
  }
});

encode.run();

const prefix = suite('assertValidPrefix');

prefix('accepts whole segments, a trailing slash or a partial last segment', () => {
  for (const ok of ['', 'cases', 'cases/', 'cases/c-4', 'sha256/ab', '.']) assertValidPrefix(ok);
});

prefix('refuses prefixes no valid key could start with', () => {
  for (const bad of ['/', '/a', 'a//', '../', 'a/./', 'a b', 'ä'])
    refusal(() => assertValidPrefix(bad));
});

prefix.run();

const sha = suite('sha256Key');

sha('puts a digest under sha256/ in lowercase', () => {
  const hex = 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855';
  assert.is(sha256Key(hex), `sha256/${hex.toLowerCase()}`);
});

sha('refuses anything but 64 hex digits', () => {
  assert.match(
    refusal(() => sha256Key('abc')),
    '64 hexadecimal digits',
  );
  refusal(() => sha256Key('g'.repeat(64)));
  refusal(() => sha256Key('a'.repeat(65)));
  refusal(() => sha256Key(`${'a'.repeat(63)}/`));
});

sha.run();
