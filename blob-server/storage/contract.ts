import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BadRequest,
  BlobNotFound,
  InvalidKey,
  MultipartNotFound,
  RangeNotSatisfiable,
} from '../errors.ts';
import type { BlobStore, ByteRange } from './blob-store.ts';
import { collect, within } from '../../tests/helpers/async.ts';

export interface OpenedStore {
  store: BlobStore;
  cleanup: () => Promise<void>;
}

/** Longest any single contract case may take before it is reported as hung. */
const CASE_TIMEOUT_MS = 60_000;
const MiB = 1024 * 1024;

/**
 * The behaviour every BlobStore backend promises, run against each of them. `open` gives a store
 * with nothing in it; each case uses its own key prefix so cases cannot see each other's objects.
 */
export function blobStoreContract(name: string, open: () => Promise<OpenedStore>): void {
  const test = suite(`BlobStore contract: ${name}`);
  // Opened by the first case rather than in a before hook: uvu swallows errors thrown by hooks,
  // which would turn a store that cannot start into a silently empty suite.
  let opened: Promise<OpenedStore> | undefined;
  const store = async (): Promise<BlobStore> => (await (opened ??= open())).store;
  const it = (title: string, body: (store: BlobStore) => Promise<void>): void =>
    test(title, async () => within(CASE_TIMEOUT_MS, title, async () => body(await store())));

  test.after(async () => {
    if (opened) await (await opened.catch(() => undefined))?.cleanup();
  });

  it('stores and reads back bytes identically', async (store) => {
    const text = Buffer.from('chain of custody begins here\n');
    assert.equal(await store.put('roundtrip/small', Readable.from([text])), { size: text.length });
    assert.equal(await readAll(store, 'roundtrip/small'), text);

    // Big enough for S3 to take the multipart path, and not a multiple of any part size.
    const big = randomBytes(12 * MiB + 12_345);
    const result = await store.put('roundtrip/big', inChunks(big, 64 * 1024));
    assert.equal(result, { size: big.length });
    assert.is((await store.stat('roundtrip/big'))?.size, big.length);
    assert.is(sha256(await readAll(store, 'roundtrip/big')), sha256(big));
  });

  it('places and lifts a legal hold on a stored object; a missing one is not found', async (store) => {
    await store.put('held/original', Readable.from([Buffer.from('exhibit A')]));
    const { versionId } = await store.protect('held/original', new Date(Date.now() + 60_000));
    const version = versionId !== undefined ? { versionId } : {};
    await store.setLegalHold('held/original', true, version);
    await store.setLegalHold('held/original', false, version);
    assert.equal(await readAll(store, 'held/original'), Buffer.from('exhibit A'));
    await rejects(() => store.setLegalHold('held/missing', true), BlobNotFound);
  });

  it('stores a stream whose size was announced in advance', async (store) => {
    const bytes = randomBytes(9 * MiB + 1);
    await store.put('announced/big', inChunks(bytes, 256 * 1024), { size: bytes.length });
    assert.is(sha256(await readAll(store, 'announced/big')), sha256(bytes));
  });

  it('serves byte ranges', async (store) => {
    const bytes = randomBytes(1000);
    await store.put('ranges/object', Readable.from([bytes]));
    const cases: [ByteRange, number, number][] = [
      [{ start: 0, end: 0 }, 0, 0],
      [{ start: 100, end: 199 }, 100, 199],
      [{ start: 999, end: 999 }, 999, 999],
      [{ start: 990 }, 990, 999],
      [{ start: 0 }, 0, 999],
      [{ start: 500, end: 5000 }, 500, 999],
    ];
    for (const [range, start, end] of cases) {
      const result = await store.get('ranges/object', range);
      const served = await buffer(result.body);
      const label = JSON.stringify(range);
      assert.equal({ start: result.start, end: result.end }, { start, end }, label);
      assert.is(result.size, 1000, label);
      assert.equal(served, bytes.subarray(start, end + 1), label);
    }
  });

  it('rejects a range that starts past the end with RangeNotSatisfiable', async (store) => {
    await store.put('ranges/short', Readable.from([Buffer.from('0123456789')]));
    await rejects(() => store.get('ranges/short', { start: 10 }), RangeNotSatisfiable);
    await rejects(() => store.get('ranges/short', { start: 50, end: 60 }), RangeNotSatisfiable);
    await rejects(() => store.get('ranges/short', { start: 5, end: 2 }), RangeNotSatisfiable);
    await rejects(() => store.get('ranges/short', { start: -1 }), RangeNotSatisfiable);
  });

  it('gives BlobNotFound on get and null on stat for a missing object', async (store) => {
    await rejects(() => store.get('missing/nothing'), BlobNotFound, 'missing/nothing');
    await rejects(() => store.get('missing/nothing', { start: 3 }), BlobNotFound);
    assert.is(await store.stat('missing/nothing'), null);
  });

  it('replaces an object atomically when overwriting it', async (store) => {
    await store.put('overwrite/doc', Readable.from([Buffer.from('first version, the long one')]), {
      contentType: 'text/plain',
    });
    const gate = slowStream([Buffer.from('second ')], [Buffer.from('version')]);
    const writing = store.put('overwrite/doc', gate.stream, { contentType: 'text/markdown' });
    await gate.halfway;
    // Mid-write, readers still see the whole previous object.
    assert.is((await readAll(store, 'overwrite/doc')).toString(), 'first version, the long one');
    gate.finish();
    assert.equal(await writing, { size: 14 });
    const after = await store.get('overwrite/doc');
    assert.is((await buffer(after.body)).toString(), 'second version');
    assert.is(after.contentType, 'text/markdown');
    assert.is(after.size, 14);
  });

  it('leaves no object after a failed write and keeps a previous object intact', async (store) => {
    const boom = new Error('source stream broke');
    await rejects(() => store.put('failed/new', failingStream(3 * MiB, boom)), Error, boom.message);
    assert.is(await store.stat('failed/new'), null);
    assert.equal(await collect(store.list('failed/')), []);

    const original = randomBytes(4096);
    await store.put('failed/existing', Readable.from([original]), { contentType: 'image/png' });
    // Past two 8 MiB parts, so an S3 multipart upload is under way when the source fails.
    await rejects(
      () =>
        store.put('failed/existing', failingStream(20 * MiB, boom), { contentType: 'text/plain' }),
      Error,
      boom.message,
    );
    assert.equal(await store.stat('failed/existing'), { size: 4096, contentType: 'image/png' });
    assert.equal(await readAll(store, 'failed/existing'), original);
    assert.equal(await collect(store.list('failed/')), ['failed/existing']);
  });

  it('copies an object with its content type', async (store) => {
    const bytes = randomBytes(2048);
    await store.put('copy/source', Readable.from([bytes]), { contentType: 'video/mp4' });
    await store.put('copy/target', Readable.from([Buffer.from('old')]));
    await store.copy('copy/source', 'copy/target');
    await store.copy('copy/source', 'copy/fresh');
    for (const key of ['copy/source', 'copy/target', 'copy/fresh']) {
      assert.equal(await store.stat(key), { size: 2048, contentType: 'video/mp4' }, key);
      assert.equal(await readAll(store, key), bytes, key);
    }
    await rejects(() => store.copy('copy/absent', 'copy/other'), BlobNotFound, 'copy/absent');
    assert.is(await store.stat('copy/other'), null);
  });

  it('deletes idempotently, touching no other key', async (store) => {
    await store.put('delete/x/a', Readable.from([Buffer.from('a')]));
    await store.put('delete/x/ab', Readable.from([Buffer.from('ab')]));
    await store.put('delete/x2', Readable.from([Buffer.from('x2')]));
    await store.delete('delete/x/a');
    assert.is(await store.stat('delete/x/a'), null);
    await rejects(() => store.get('delete/x/a'), BlobNotFound);
    await store.delete('delete/x/a');
    await store.delete('delete/never-existed');
    assert.equal(await collect(store.list('delete/')), ['delete/x/ab', 'delete/x2']);
    await store.delete('delete/x/ab');
    await store.delete('delete/x2');
    assert.equal(await collect(store.list('delete/')), []);
  });

  it('lists keys under a prefix in lexicographic order', async (store) => {
    // Chosen so that walking a directory tree in name order would not give key order:
    // 'list/a-x' < 'list/a.c' < 'list/a/…' < 'list/ab'.
    const keys = ['list/a/b/c', 'list/b', 'list/a.c', 'list/B', 'list/a/b2', 'list/a-x', 'list/0'];
    keys.push('list/ab', 'listing/outside', 'lis');
    for (const key of keys) await store.put(key, Readable.from([Buffer.from(key)]));
    const under = (prefix: string): string[] => keys.filter((k) => k.startsWith(prefix)).sort();

    assert.equal(await collect(store.list('list/')), under('list/'));
    assert.equal(await collect(store.list('list/a')), under('list/a'));
    assert.equal(await collect(store.list('list/a/')), under('list/a/'));
    assert.equal(await collect(store.list('list')), under('list'));
    assert.equal(await collect(store.list('nothing-here/')), []);
    const everything = await collect(store.list(''));
    assert.equal(everything, [...everything].sort());
    assert.ok(under('').every((key) => everything.includes(key)));
  });

  it('keeps the content type', async (store) => {
    await store.put('types/photo', Readable.from([Buffer.from('jpeg')]), {
      contentType: 'image/jpeg',
    });
    await store.put('types/untyped', Readable.from([Buffer.from('raw')]));
    assert.is((await store.stat('types/photo'))?.contentType, 'image/jpeg');
    for (const range of [undefined, { start: 1 }]) {
      const result = await store.get('types/photo', range);
      result.body.destroy(); // only the headers matter here; an unread body holds a handle
      assert.is(result.contentType, 'image/jpeg');
    }
    assert.is((await store.stat('types/untyped'))?.contentType, 'application/octet-stream');
  });

  it('stores an empty object', async (store) => {
    assert.equal(await store.put('empty/nothing', Readable.from([])), { size: 0 });
    assert.equal(await store.stat('empty/nothing'), {
      size: 0,
      contentType: 'application/octet-stream',
    });
    for (const range of [undefined, { start: 0 }, { start: 0, end: 10 }]) {
      const result = await store.get('empty/nothing', range);
      assert.is((await buffer(result.body)).length, 0, JSON.stringify(range));
      assert.equal([result.size, result.start, result.end], [0, 0, -1], JSON.stringify(range));
    }
    await rejects(() => store.get('empty/nothing', { start: 1 }), RangeNotSatisfiable);
  });

  it('reports itself healthy', async (store) => {
    const health = await store.health();
    assert.ok(health.ok, health.detail);
    assert.type(health.detail, 'string');
  });

  it('rejects keys with invalid segments with InvalidKey', async (store) => {
    const badKeys = ['', '/a', 'a/', 'a//b', '../x', 'a/./b', 'a/..', 'a b', 'ä', 'a\\b'];
    badKeys.push('x'.repeat(256), `a/${'b/'.repeat(600)}c`);
    const body = (): Readable => Readable.from([Buffer.from('x')]);
    for (const key of badKeys) {
      await rejects(() => store.put(key, body()), InvalidKey, undefined, key);
      await rejects(() => store.get(key), InvalidKey, undefined, key);
      await rejects(() => store.stat(key), InvalidKey, undefined, key);
      await rejects(() => store.copy('valid', key), InvalidKey, undefined, key);
      await rejects(() => store.copy(key, 'valid'), InvalidKey, undefined, key);
      await rejects(() => store.delete(key), InvalidKey, undefined, key);
    }
    for (const prefix of ['/a', 'a//', '../', 'a/../b/', 'a b', 'ä/']) {
      await rejects(() => collect(store.list(prefix)), InvalidKey, undefined, prefix);
    }
    assert.is(await store.stat('valid'), null);
  });

  it('joins multipart parts into one object, invisible until completed', async (store) => {
    const key = 'multipart/joined';
    const sizes = [store.minPartSize, store.minPartSize, 1234];
    const parts = sizes.map((size) => randomBytes(size));
    const uploadId = await store.startMultipart(key, { contentType: 'video/mp4' });
    // Out of order, as parallel senders deliver them.
    const receipts = [
      await store.putPart(key, uploadId, 3, parts[2]!),
      await store.putPart(key, uploadId, 1, parts[0]!),
      await store.putPart(key, uploadId, 2, parts[1]!),
    ].sort((a, b) => a.part - b.part);
    assert.is(await store.stat(key), null);
    const whole = Buffer.concat(parts);
    assert.equal(await store.completeMultipart(key, uploadId, receipts), { size: whole.length });
    assert.equal(await store.stat(key), { size: whole.length, contentType: 'video/mp4' });
    assert.ok(sha256(await readAll(store, key)) === sha256(whole));
    await rejects(() => store.completeMultipart(key, uploadId, receipts), MultipartNotFound);
    await store.delete(key);
  });

  it('keeps the last copy of a part sent twice', async (store) => {
    const key = 'multipart/resent';
    const uploadId = await store.startMultipart(key);
    const first = await store.putPart(key, uploadId, 1, Buffer.from('first try'));
    const second = await store.putPart(key, uploadId, 1, Buffer.from('second'));
    assert.is.not(first.etag, second.etag);
    await store.completeMultipart(key, uploadId, [second]);
    assert.equal(await readAll(store, key), Buffer.from('second'));
    await store.delete(key);
  });

  it('refuses a part list S3 would refuse', async (store) => {
    const key = 'multipart/refused';
    const uploadId = await store.startMultipart(key);
    const small = await store.putPart(key, uploadId, 1, Buffer.from('too small to be first'));
    const last = await store.putPart(key, uploadId, 2, Buffer.from('last'));
    await rejects(() => store.completeMultipart(key, uploadId, [small, last]), BadRequest);
    await rejects(() => store.completeMultipart(key, uploadId, []), BadRequest);
    await rejects(() => store.putPart(key, uploadId, 0, Buffer.from('x')), BadRequest);
    await rejects(() => store.putPart(key, uploadId, 10_001, Buffer.from('x')), BadRequest);
    assert.is(await store.stat(key), null);
    await store.abortMultipart(key, uploadId);
  });

  it('discards every part when a multipart write is aborted', async (store) => {
    const key = 'multipart/aborted';
    const uploadId = await store.startMultipart(key);
    const part = await store.putPart(key, uploadId, 1, Buffer.from('never kept'));
    await store.abortMultipart(key, uploadId);
    await store.abortMultipart(key, uploadId);
    await rejects(() => store.completeMultipart(key, uploadId, [part]), MultipartNotFound);
    await rejects(() => store.putPart(key, uploadId, 2, Buffer.from('late')), MultipartNotFound);
    assert.is(await store.stat(key), null);
  });

  test.run();
}

async function readAll(store: BlobStore, key: string): Promise<Buffer> {
  return buffer((await store.get(key)).body);
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Like a network upload: many small chunks, no length known up front. */
function inChunks(bytes: Buffer, chunkSize: number): Readable {
  return Readable.from(
    (function* () {
      for (let offset = 0; offset < bytes.length; offset += chunkSize) {
        yield bytes.subarray(offset, offset + chunkSize);
      }
    })(),
  );
}

/** Delivers `bytes` of data, then fails, as a dropped upload connection would. */
function failingStream(bytes: number, error: Error): Readable {
  return Readable.from(
    (async function* () {
      for (let sent = 0; sent < bytes; sent += MiB) yield randomBytes(Math.min(MiB, bytes - sent));
      throw error;
    })(),
  );
}

/** Sends `before`, then waits for `finish()` before sending `after`. */
function slowStream(
  before: Buffer[],
  after: Buffer[],
): { stream: Readable; halfway: Promise<void>; finish: () => void } {
  let reachedHalfway!: () => void;
  let finish!: () => void;
  const halfway = new Promise<void>((resolve) => (reachedHalfway = resolve));
  const released = new Promise<void>((resolve) => (finish = resolve));
  const stream = Readable.from(
    (async function* () {
      yield* before;
      reachedHalfway();
      await released;
      yield* after;
    })(),
  );
  return { stream, halfway, finish };
}

async function rejects(
  run: () => Promise<unknown>,
  expected: abstract new (...args: never[]) => Error,
  messageIncludes?: string,
  label?: string,
): Promise<void> {
  const what = label === undefined ? '' : ` (for ${JSON.stringify(label.slice(0, 60))})`;
  try {
    await run();
  } catch (err) {
    assert.instance(err, expected, `expected ${expected.name}${what}, got ${String(err)}`);
    if (messageIncludes !== undefined) {
      assert.ok(
        (err as Error).message.includes(messageIncludes),
        `"${(err as Error).message}" should mention ${messageIncludes}`,
      );
    }
    return;
  }
  assert.unreachable(`expected ${expected.name}${what}, but it succeeded`);
}
