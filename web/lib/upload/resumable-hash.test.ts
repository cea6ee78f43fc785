import { createHash, randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ResumableHash } from './resumable-hash.ts';
import { failure } from '../../../tests/helpers/async.ts';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const hashing = suite('ResumableHash');

hashing('chunks hashed with save and load between them give the SHA-256 of the whole', async () => {
  const file = randomBytes(1_000_003);
  let saved = (await ResumableHash.create()).checkpoint();
  for (let start = 0; start < file.length; start += 65_536) {
    // A new hasher for every chunk, as if each came in another session.
    const hash = await ResumableHash.create(saved);
    assert.is(hash.offset, start);
    hash.update(file.subarray(start, start + 65_536));
    saved = hash.checkpoint();
  }
  const last = await ResumableHash.create(saved);
  assert.is(last.offset, file.length);
  assert.is(last.hex(), sha256(file));
});

hashing('a checkpoint is a copy: hashing on does not change it', async () => {
  const hash = await ResumableHash.create();
  hash.update(Buffer.from('first part '));
  const checkpoint = hash.checkpoint();
  const copy = checkpoint.state.slice();
  hash.update(Buffer.from('second part'));
  assert.equal(checkpoint.state, copy);
  assert.is(checkpoint.offset, 11);
});

hashing('hex() leaves the hash open for more bytes', async () => {
  const hash = await ResumableHash.create();
  hash.update(Buffer.from('abc'));
  assert.is(hash.hex(), sha256(Buffer.from('abc')));
  hash.update(Buffer.from('def'));
  assert.is(hash.hex(), sha256(Buffer.from('abcdef')));
});

hashing('restore() goes back to an earlier checkpoint', async () => {
  const hash = await ResumableHash.create();
  hash.update(Buffer.from('kept'));
  const kept = hash.checkpoint();
  hash.update(Buffer.from(' and a chunk the server never acknowledged'));
  hash.restore(kept);
  assert.is(hash.offset, 4);
  hash.update(Buffer.from('!'));
  assert.is(hash.hex(), sha256(Buffer.from('kept!')));
});

hashing('an unreadable state throws and leaves the hash as it was', async () => {
  const hash = await ResumableHash.create();
  hash.update(Buffer.from('abc'));
  assert.throws(() => hash.restore({ offset: 99, state: new Uint8Array([1, 2, 3]) }));
  assert.is(hash.offset, 3);
  assert.is(hash.hex(), sha256(Buffer.from('abc')));
});

hashing('catchUp() hashes a file up to an offset without reading it whole', async () => {
  const bytes = randomBytes(9 * 1024 * 1024 + 17);
  const reads: number[] = [];
  const blob = new Blob([bytes]);
  const watched = {
    size: blob.size,
    slice(start?: number, end?: number) {
      reads.push((end ?? blob.size) - (start ?? 0));
      return blob.slice(start, end);
    },
  } as Blob;
  const hash = await ResumableHash.create();
  hash.update(bytes.subarray(0, 100));
  await hash.catchUp(watched, bytes.length);
  assert.is(hash.hex(), sha256(bytes));
  assert.ok(Math.max(...reads) <= 4 * 1024 * 1024, `read ${Math.max(...reads)} bytes at once`);
  assert.is(
    reads.reduce((a, b) => a + b, 0),
    bytes.length - 100,
    'the first 100 bytes, already hashed, were not read again',
  );
});

hashing('catchUp() refuses to go backwards or past the end', async () => {
  const hash = await ResumableHash.create();
  hash.update(Buffer.from('abcdef'));
  const blob = new Blob([Buffer.from('abcdefgh')]);
  assert.instance(await failure(hash.catchUp(blob, 2)), RangeError);
  assert.instance(await failure(hash.catchUp(blob, 9)), RangeError);
});

hashing('catchUp() stops when aborted', async () => {
  const hash = await ResumableHash.create();
  const stop = new AbortController();
  stop.abort();
  const err = await failure(hash.catchUp(new Blob([Buffer.alloc(10)]), 10, stop.signal));
  assert.is(err.name, 'AbortError');
  assert.is(hash.offset, 0);
});

hashing.run();
