import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { minioClient, startMinio, type MinioServer } from '../../tests/helpers/minio.ts';
import { StorageUnavailable } from '../errors.ts';
import type { BlobStore } from './blob-store.ts';
import { blobStoreContract } from './contract.ts';
import { createS3Store, type S3StoreConfig } from './s3-store.ts';
import { collect } from '../../tests/helpers/async.ts';
import { freePort } from '../../tests/helpers/net.ts';

function configFor(minio: MinioServer, bucket: string): S3StoreConfig {
  return {
    endPoint: minio.endPoint,
    accessKey: minio.accessKey,
    secretKey: minio.secretKey,
    bucket,
  };
}

function freshBucket(): string {
  return `contract-${randomBytes(4).toString('hex')}`;
}

blobStoreContract('MinIO', async () => {
  const minio = await startMinio();
  try {
    const store = await createS3Store(configFor(minio, freshBucket()));
    return {
      store,
      cleanup: async () => {
        await store.close();
        await minio.stop();
      },
    };
  } catch (err) {
    await minio.stop();
    throw err;
  }
});

const startup = suite('createS3Store');

startup(
  'rejects quickly with StorageUnavailable naming the endpoint when nothing listens',
  async () => {
    const endPoint = `http://127.0.0.1:${await freePort()}`;
    const began = Date.now();
    const err = await failure(
      createS3Store({ endPoint, accessKey: 'k', secretKey: 'secret-key', bucket: 'b-unreachable' }),
    );
    assert.instance(err, StorageUnavailable);
    assert.match(err.message, endPoint);
    assert.match(err.message, 'could not be reached');
    assert.ok(Date.now() - began < 5_000, `took ${Date.now() - began} ms`);
  },
);

startup(
  'gives up within its startup timeout when the server accepts but never answers',
  async () => {
    const silent = await silentServer();
    try {
      const began = Date.now();
      const err = await failure(
        createS3Store({
          endPoint: silent.endPoint,
          accessKey: 'k',
          secretKey: 'secret-key',
          bucket: 'b-silent',
          startupTimeoutMs: 1_000,
        }),
      );
      assert.instance(err, StorageUnavailable);
      assert.match(err.message, silent.endPoint);
      const took = Date.now() - began;
      assert.ok(took >= 900 && took < 3_000, `took ${took} ms`);
    } finally {
      await silent.close();
    }
  },
);

startup('creates the bucket, and accepts one that already exists', async () => {
  const minio = await startMinio();
  try {
    const bucket = freshBucket();
    const first = await createS3Store(configFor(minio, bucket));
    await first.put('k', Readable.from([Buffer.from('kept')]));
    await first.close();
    assert.ok(await minioClient(minio).bucketExists(bucket));
    const second = await createS3Store(configFor(minio, bucket));
    assert.is((await buffer((await second.get('k')).body)).toString(), 'kept');
    await second.close();
  } finally {
    await minio.stop();
  }
});

startup.run();

const outage = suite('S3 store during a MinIO outage');
let minio: MinioServer | undefined;
let store: BlobStore | undefined;
const before = randomBytes(100_000);

outage.before(async () => {
  minio = await startMinio();
  store = await createS3Store({ ...configFor(minio, freshBucket()), requestTimeoutMs: 2_000 });
});

outage.after(async () => {
  await store?.close();
  await minio?.stop();
});

/** uvu ignores errors in hooks, so each case checks that the setup really happened. */
function running(): { minio: MinioServer; store: BlobStore } {
  assert.ok(minio && store, 'MinIO and the store should have started');
  return { minio: minio as MinioServer, store: store as BlobStore };
}

outage('stores objects while MinIO is up', async () => {
  const { store } = running();
  await store.put('outage/before', Readable.from([before]), { contentType: 'image/tiff' });
  assert.ok((await store.health()).ok);
});

outage('rejects put with StorageUnavailable while MinIO is stopped', async () => {
  const { minio, store } = running();
  await minio.stopProcess();
  const began = Date.now();
  const err = await failure(store.put('outage/during', Readable.from([Buffer.from('lost')])));
  assert.instance(err, StorageUnavailable);
  assert.match(err.message, minio.endPoint);
  assert.ok(err.cause !== undefined, 'keeps the original error as cause');
  assert.ok(Date.now() - began < 5_000, `took ${Date.now() - began} ms`);
  assert.instance(await failure(store.get('outage/before')), StorageUnavailable);
  assert.instance(await failure(store.stat('outage/before')), StorageUnavailable);
  assert.instance(await failure(collect(store.list('outage/'))), StorageUnavailable);
});

outage('reports ok:false from health without throwing while MinIO is stopped', async () => {
  const { minio, store } = running();
  const health = await store.health();
  assert.is(health.ok, false);
  assert.match(health.detail, minio.endPoint);
});

outage('still has every earlier object after MinIO restarts', async () => {
  const { minio, store } = running();
  await minio.restart();
  const result = await store.get('outage/before');
  assert.equal(await buffer(result.body), before);
  assert.is(result.contentType, 'image/tiff');
  assert.is(await store.stat('outage/during'), null);
  assert.ok((await store.health()).ok);
});

outage('accepts puts again after MinIO restarts', async () => {
  const { store } = running();
  const bytes = randomBytes(9 * 1024 * 1024);
  await store.put('outage/after', Readable.from([bytes]));
  assert.equal(await buffer((await store.get('outage/after')).body), bytes);
  assert.equal(await collect(store.list('outage/')), ['outage/after', 'outage/before']);
});

outage.run();

const uploads = suite('S3 store multipart uploads');

uploads('leave no unfinished upload behind when the source fails', async () => {
  const minio = await startMinio();
  const bucket = freshBucket();
  const store = await createS3Store(configFor(minio, bucket));
  try {
    const source = Readable.from(
      (async function* () {
        for (let i = 0; i < 20; i++) yield randomBytes(1024 * 1024);
        throw new Error('upload connection dropped');
      })(),
    );
    const err = await failure(store.put('big/failed', source));
    assert.is(err.message, 'upload connection dropped');
    const unfinished: unknown[] = [];
    for await (const upload of minioClient(minio).listIncompleteUploads(bucket, '', true)) {
      unfinished.push(upload);
    }
    assert.equal(unfinished, []);
  } finally {
    await store.close();
    await minio.stop();
  }
});

uploads.run();

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    assert.instance(err, Error);
    return err as Error;
  }
  return assert.unreachable('expected a rejection') as never;
}

/** Accepts TCP connections and never says a word, like a hung server. */
async function silentServer(): Promise<{ endPoint: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {}); // the client hanging up on us is expected
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endPoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        sockets.forEach((socket) => socket.destroy());
        server.close(() => resolve());
      }),
  };
}
