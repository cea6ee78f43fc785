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
import { apiCall } from '../../tests/helpers/http.ts';
import { within } from '../../tests/helpers/async.ts';

const quiet = { info() {}, warn() {}, error() {} } as unknown as Logger;
const CASE_ID = 'case-purge-s3-0001';
const DAY = 86_400_000;

interface Ctx {
  minio?: MinioServer;
  store?: BlobStore;
  server?: BlobServer;
  ids?: Awaited<ReturnType<typeof testIdentity>>;
}

const purge = suite<Ctx>('recycle bin purge on MinIO', {});

purge.after(async (ctx) => {
  await ctx.server?.close();
  await ctx.store?.close();
  await ctx.ids?.close();
  await ctx.minio?.stop();
});

/** Uploads a file with tus as an administrator; resolves with the object key it landed under. */
async function upload(base: string, token: string, file: Buffer): Promise<string> {
  const location = await new Promise<string>((resolve, reject) => {
    const sending = new tus.Upload(file, {
      endpoint: `${base}/api/uploads`,
      headers: { Authorization: `Bearer ${token}` },
      metadata: { case: CASE_ID, filename: 'bodycam.mp4', filetype: 'video/mp4' },
      retryDelays: [],
      onError: reject,
      onSuccess: () => resolve(sending.url ?? ''),
    });
    sending.start();
  });
  return `evidence/${location.split('/').pop()}`;
}

purge(
  'a legal hold reaches the storage; a purge removes the reference and the object, and a locked original only gets a delete marker',
  (ctx) =>
    within(120_000, 'purge on MinIO', async () => {
      ctx.minio = await startMinio();
      const bucket = 'purge-evidence';
      ctx.store = await createS3Store({
        endPoint: ctx.minio.endPoint,
        accessKey: ctx.minio.accessKey,
        secretKey: ctx.minio.secretKey,
        bucket,
        objectLock: 'GOVERNANCE',
      });
      ctx.ids = await testIdentity();
      const clock = { now: Date.now() };
      ctx.server = await createBlobServer({
        store: ctx.store,
        maxUploadBytes: 1 << 20,
        log: quiet,
        audit: ctx.ids.identity.audit,
        auth: {
          service: ctx.ids.identity.service,
          cases: ctx.ids.identity.cases,
          refreshTtlMs: 60_000,
        },
        uploads: { maxFileBytes: 1 << 30, expiryMs: 3_600_000, retentionDays: 1 },
        retention: {
          defaultRetentionDays: 0,
          recycleBinDays: 30,
          sweepIntervalMs: 3_600_000,
          now: () => new Date(clock.now),
        },
      });
      const base = `http://127.0.0.1:${ctx.server.port}`;
      const admin = ctx.ids.adminToken;
      const file = randomBytes(6 << 20);
      const digest = createHash('sha256').update(file).digest('hex');
      const key = await upload(base, admin, file);
      clock.now = Date.now() + 1000;
      const s3 = minioClient(ctx.minio);
      const original = await s3.statObject(bucket, key);

      const [item] = (await apiCall(base, 'GET', `/api/cases/${CASE_ID}/retention`, admin)).body[
        'items'
      ] as Array<{ evidenceId: string }>;
      assert.ok(item, 'the server recorded the evidence item');

      // Exhibit's legal hold puts the storage's own on the original version, and lifts it.
      // minio-js types the answer as the bare status; MinIO sends { Status }.
      const holdStatus = async () => {
        const answer: unknown = await s3.getObjectLegalHold(bucket, key, {
          versionId: original.versionId!,
        });
        return (answer as { Status?: string }).Status ?? answer;
      };
      const hold = `/api/cases/${CASE_ID}/legal-hold`;
      assert.is((await apiCall(base, 'PUT', hold, admin, { reason: 'subpoena' })).status, 200);
      assert.is(await holdStatus(), 'ON');
      const refused = await apiCall(
        base,
        'DELETE',
        `/api/cases/${CASE_ID}/evidence/${item.evidenceId}`,
        admin,
        { reason: 'test footage' },
      );
      assert.is(refused.status, 423);
      assert.is((await apiCall(base, 'DELETE', hold, admin, { reason: 'withdrawn' })).status, 204);
      assert.is(await holdStatus(), 'OFF');
      const audit = ctx.ids.identity.audit;
      const [held] = (await audit.search({ action: 'case.legal_hold_set' }, { limit: 1 })).entries;
      assert.is(held?.details?.['storage'], 'applied');
      const deleted = await apiCall(
        base,
        'DELETE',
        `/api/cases/${CASE_ID}/evidence/${item.evidenceId}`,
        admin,
        { reason: 'test footage' },
      );
      assert.is(deleted.status, 200, JSON.stringify(deleted.body));
      clock.now += 31 * DAY;
      assert.equal(await ctx.server.retention.sweep(), { purged: 1, held: 0 });

      const served = await fetch(`${base}/api/blobs/${digest}`, {
        headers: { authorization: `Bearer ${admin}` },
      });
      assert.is(served.status, 404, 'not even an administrator gets a purged file');
      const refs = [];
      for await (const ref of s3.listObjectsV2(bucket, 'refs/', true)) refs.push(ref);
      assert.equal(refs, [], 'the digest reference is gone');
      let current: unknown;
      try {
        await s3.statObject(bucket, key);
      } catch (err) {
        current = err;
      }
      assert.match(String((current as { code?: string })?.code), /NotFound|NoSuchKey/);
      // Object Lock keeps the locked version until its retention ends: S3 cannot forget it sooner.
      const locked = await s3.statObject(bucket, key, { versionId: original.versionId! });
      assert.is(locked.size, file.length);
      const [entry] = (
        await ctx.ids.identity.audit.search({ action: 'evidence.purged' }, { limit: 1 })
      ).entries;
      assert.equal(
        [entry?.details?.['sha256'], entry?.details?.['objectDeleted'], entry?.target],
        [digest, true, `case:${CASE_ID}`],
      );
    }),
);

purge.run();
