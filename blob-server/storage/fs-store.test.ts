import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { StorageUnavailable } from '../errors.ts';
import { blobStoreContract } from './contract.ts';
import { createFsStore } from './fs-store.ts';
import { collect } from '../../tests/helpers/async.ts';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'exhibit-fs-store-'));
}

blobStoreContract('filesystem', async () => {
  const dir = await tempDir();
  const store = await createFsStore(join(dir, 'blobs'));
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

const createFsStoreSuite = suite('createFsStore');

createFsStoreSuite('creates a missing root directory', async () => {
  const dir = await tempDir();
  try {
    const store = await createFsStore(join(dir, 'not', 'yet', 'there'));
    await store.put('k', Readable.from([Buffer.from('x')]));
    assert.equal(await store.stat('k'), { size: 1, contentType: 'application/octet-stream' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

createFsStoreSuite('names the directory when it cannot be created', async () => {
  // Tests run as root, so permissions would not stop a write; a path under a file always fails.
  const dir = await tempDir();
  try {
    const file = join(dir, 'a-file');
    await writeFile(file, 'in the way');
    const root = join(file, 'blobs');
    try {
      await createFsStore(root);
      assert.unreachable('should have failed');
    } catch (err) {
      assert.instance(err, StorageUnavailable);
      assert.ok((err as Error).message.includes(root), (err as Error).message);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

createFsStoreSuite('removes stale temp files but keeps recent ones', async () => {
  const dir = await tempDir();
  try {
    await createFsStore(dir);
    const stale = join(dir, '.tmp', 'crashed-write.part');
    const recent = join(dir, '.tmp', 'live-write.part');
    await writeFile(stale, 'left by a crash');
    await writeFile(recent, 'being written');
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(stale, twoHoursAgo, twoHoursAgo);
    await createFsStore(dir);
    assert.equal(await readdir(join(dir, '.tmp')), ['live-write.part']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

createFsStoreSuite.run();

const fsStore = suite('filesystem store');

fsStore('does not list temp files or writes in progress', async () => {
  const dir = await tempDir();
  try {
    const store = await createFsStore(dir);
    await store.put('cases/1/photo', Readable.from([Buffer.from('done')]));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const slow = Readable.from(
      (async function* () {
        yield Buffer.from('half');
        await released;
        yield Buffer.from(' done');
      })(),
    );
    const writing = store.put('cases/1/video', slow);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.is((await readdir(join(dir, '.tmp'))).length > 0, true, 'a temp file exists mid-write');
    assert.equal(await collect(store.list('')), ['cases/1/photo']);
    release();
    await writing;
    assert.equal(await collect(store.list('')), ['cases/1/photo', 'cases/1/video']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

fsStore('leaves no temp files behind after a failed write', async () => {
  const dir = await tempDir();
  try {
    const store = await createFsStore(dir);
    const failing = Readable.from(
      (async function* () {
        yield Buffer.from('partial');
        throw new Error('connection dropped');
      })(),
    );
    await store.put('k', failing).then(
      () => assert.unreachable('put should fail'),
      (err: Error) => assert.is(err.message, 'connection dropped'),
    );
    assert.equal(await readdir(join(dir, '.tmp')), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

fsStore('reports unhealthy once its directory is gone', async () => {
  const dir = await tempDir();
  const store = await createFsStore(dir);
  await rm(dir, { recursive: true, force: true });
  const health = await store.health();
  assert.is(health.ok, false);
  assert.ok(health.detail.includes(dir), health.detail);
});

fsStore.run();
