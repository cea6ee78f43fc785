import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Logger } from '../../sync-server/logger.ts';
import { StorageUnavailable } from '../errors.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { createFsStore } from '../storage/fs-store.ts';
import { EvidenceRefs } from './evidence-refs.ts';
import { UploadService } from './upload-service.ts';

const MiB = 1024 * 1024;
const quiet = { info() {}, warn() {}, error() {} } as unknown as Logger;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

interface Ctx {
  dir: string;
  store: BlobStore;
  /** Makes the next `completeMultipart` fail as if storage went away at that moment. */
  failNextJoin(): void;
  service: UploadService;
  verified: string[];
}

const test = suite<Ctx>('UploadService', {} as Ctx);

test.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'exhibit-upload-service-'));
  const real = await createFsStore(ctx.dir);
  let failJoin = false;
  // The real store, with one fault injected where a crash or outage would strike.
  ctx.store = Object.assign(Object.create(real) as BlobStore, {
    completeMultipart: async (...args: Parameters<BlobStore['completeMultipart']>) => {
      if (failJoin) {
        failJoin = false;
        throw new StorageUnavailable('storage went away while joining the parts');
      }
      return real.completeMultipart(...args);
    },
  });
  ctx.failNextJoin = () => (failJoin = true);
  ctx.verified = [];
  ctx.service = new UploadService({
    store: ctx.store,
    refs: new EvidenceRefs(ctx.store),
    log: quiet,
    expiryMs: 60_000,
    maxLength: 1024 ** 3,
    onVerified: async (upload) => {
      ctx.verified.push(upload.sha256!);
    },
  });
});

test.after.each(async (ctx) => {
  await rm(ctx.dir, { recursive: true, force: true });
});

async function started(ctx: Ctx, file: Buffer) {
  return ctx.service.create({
    owner: 'user:u1',
    caseId: 'case-0001',
    length: file.length,
    metadata: '',
  });
}

test('finishes an upload whose joining failed once asked where it stands', async (ctx) => {
  const file = randomBytes(9 * MiB);
  const upload = await started(ctx, file);
  ctx.failNextJoin();
  try {
    await ctx.service.append(upload.id, 'user:u1', 0, Readable.from([file]), {
      clientSha256: sha256(file),
    });
    assert.unreachable('the join should have failed');
  } catch (err) {
    assert.instance(err, StorageUnavailable);
  }
  const pending = await ctx.service.get(upload.id, 'user:u1');
  assert.is(pending.state, 'completing');
  assert.is(pending.offset, file.length);
  const settled = await ctx.service.settle(upload.id, 'user:u1');
  assert.is(settled.state, 'verified');
  assert.is(settled.sha256, sha256(file));
  assert.equal(ctx.verified, [sha256(file)]);
  const ref = await new EvidenceRefs(ctx.store).locate(sha256(file));
  assert.ok(ref);
  assert.ok((await buffer((await ctx.store.get(ref.key)).body)).equals(file));
});

test('the sweep finishes uploads stuck while completing', async (ctx) => {
  // More than one part, so the parts must be joined.
  const file = randomBytes(10 * MiB);
  const upload = await started(ctx, file);
  ctx.failNextJoin();
  await ctx.service.append(upload.id, 'user:u1', 0, Readable.from([file])).catch(() => undefined);
  assert.equal(await ctx.service.sweep(), { expired: 0, finished: 1 });
  assert.is((await ctx.service.get(upload.id, 'user:u1')).state, 'verified');
});

test('keeps one copy when the same file is uploaded twice', async (ctx) => {
  const file = randomBytes(MiB);
  for (let i = 0; i < 2; i++) {
    const upload = await started(ctx, file);
    await ctx.service.append(upload.id, 'user:u1', 0, Readable.from([file]));
  }
  const kept: string[] = [];
  for await (const key of ctx.store.list('evidence/')) kept.push(key);
  assert.is(kept.length, 1);
});

test.run();
