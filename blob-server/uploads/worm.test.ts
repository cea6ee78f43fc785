import { createHash, randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as tus from 'tus-js-client';
import { createBlobServer, type BlobServer } from '../server.ts';
import { createS3Store } from '../storage/s3-store.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { Logger } from '../../sync-server/logger.ts';
import { minioClient, startMinio, type MinioServer } from '../../tests/helpers/minio.ts';
import { testIdentity } from '../../tests/helpers/identity.ts';
import { rawRequest } from '../../tests/helpers/http.ts';
import { within } from '../../tests/helpers/async.ts';
import { StorageUnavailable } from '../errors.ts';

const quiet = { info() {}, warn() {}, error() {} } as unknown as Logger;
const BUCKET = 'worm-evidence';
const CASE_ID = 'case-worm-00001';

const test = suite('write-once originals (MinIO Object Lock)');
let minio: MinioServer | undefined;
let store: BlobStore | undefined;
let server: BlobServer | undefined;
let ids: Awaited<ReturnType<typeof testIdentity>> | undefined;

test.after(async () => {
  await server?.close();
  await store?.close();
  await ids?.close();
  await minio?.stop();
});

test('a verified original can be neither deleted nor overwritten, even with the storage keys', () =>
  within(120_000, 'worm', async () => {
    minio = await startMinio();
    store = await createS3Store({
      endPoint: minio.endPoint,
      accessKey: minio.accessKey,
      secretKey: minio.secretKey,
      bucket: BUCKET,
      objectLock: 'GOVERNANCE',
    });
    assert.is(store.protection, 'object-lock');
    ids = await testIdentity();
    server = await createBlobServer({
      store,
      maxUploadBytes: 1 << 20,
      log: quiet,
      auth: { service: ids.identity.service, cases: ids.identity.cases, refreshTtlMs: 60_000 },
      uploads: { maxFileBytes: 1 << 30, expiryMs: 3_600_000, retentionDays: 30 },
    });
    const base = `http://127.0.0.1:${server.port}`;
    const file = randomBytes(6 << 20);
    const digest = createHash('sha256').update(file).digest('hex');
    const location = await new Promise<string>((resolve, reject) => {
      const upload = new tus.Upload(file, {
        endpoint: `${base}/api/uploads`,
        headers: { Authorization: `Bearer ${ids!.adminToken}` },
        metadata: { case: CASE_ID, filename: 'bodycam.mp4', filetype: 'video/mp4' },
        retryDelays: [],
        onError: reject,
        onSuccess: () => resolve(upload.url ?? ''),
      });
      upload.start();
    });
    const key = `evidence/${location.split('/').pop()}`;

    // What an administrator holding the MinIO keys could try.
    const admin = minioClient(minio);
    const original = await admin.statObject(BUCKET, key);
    assert.ok(original.versionId, 'the original has a version');
    const retention = await admin.getObjectRetention(BUCKET, key, {
      versionId: original.versionId!,
    });
    assert.is(retention?.mode, 'GOVERNANCE');
    const until = Date.parse(String(retention?.retainUntilDate));
    assert.ok(until > Date.now() + 29 * 86_400_000, `locked until ${retention?.retainUntilDate}`);

    let deleteError: unknown;
    try {
      await admin.removeObject(BUCKET, key, { versionId: original.versionId! });
    } catch (err) {
      deleteError = err;
    }
    assert.ok(deleteError, 'deleting the locked version must fail');
    assert.match(String(deleteError), /WORM|AccessDenied|retention|locked/i);

    // An overwrite only adds a newer version; Exhibit keeps serving the locked original.
    await admin.putObject(BUCKET, key, Buffer.from('forged evidence'));
    await admin.removeObject(BUCKET, key);
    const served = await rawRequest(`${base}/api/blobs/${digest}`, {
      method: 'GET',
      headers: { Authorization: `Bearer ${ids.adminToken}` },
    });
    assert.is(served.status, 200);
    assert.ok(served.body.equals(file), 'the original bytes are still what is served');
    const stillThere = await admin.statObject(BUCKET, key, { versionId: original.versionId! });
    assert.is(stillThere.size, file.length);
    const health = (await (await fetch(`${base}/api/health`)).json()) as {
      storage: { protection: string };
    };
    assert.is(health.storage.protection, 'object-lock');
  }));

test('refuses to start on a bucket made without Object Lock, saying what to do', () =>
  within(60_000, 'no lock', async () => {
    minio ??= await startMinio();
    await minioClient(minio).makeBucket('plain-bucket', 'us-east-1');
    try {
      await createS3Store({
        endPoint: minio.endPoint,
        accessKey: minio.accessKey,
        secretKey: minio.secretKey,
        bucket: 'plain-bucket',
        objectLock: 'COMPLIANCE',
      });
      assert.unreachable('it should refuse');
    } catch (err) {
      assert.instance(err, StorageUnavailable);
      assert.match(
        (err as Error).message,
        /created without Object Lock.*S3_BUCKET.*S3_OBJECT_LOCK=off/,
      );
    }
  }));

test.run();
