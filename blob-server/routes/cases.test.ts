import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBlobServer, type BlobServer } from '../server.ts';
import { createFsStore } from '../storage/fs-store.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { testIdentity } from '../../tests/helpers/identity.ts';
import { apiCall } from '../../tests/helpers/http.ts';
import type { Logger } from '../../sync-server/logger.ts';

const quiet: Logger = { info() {}, warn() {}, error() {} };
const CASE_ID = '00112233445566778899';

interface Ctx {
  dir: string;
  store: BlobStore;
  identity: Awaited<ReturnType<typeof testIdentity>>;
  server: BlobServer;
  base: string;
  /** Token of the investigator who opened the case (its manager). */
  owner: string;
}

const call = (ctx: Ctx, method: string, path: string, token: string, body?: unknown) =>
  apiCall(ctx.base, method, path, token, body);

const members = suite<Ctx>('case members API', {} as Ctx);

members.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'exhibit-members-'));
  ctx.store = await createFsStore(join(ctx.dir, 'blobs'));
  ctx.identity = await testIdentity();
  ctx.server = await createBlobServer({
    store: ctx.store,
    maxUploadBytes: 1024,
    log: quiet,
    auth: {
      service: ctx.identity.identity.service,
      cases: ctx.identity.identity.cases,
      refreshTtlMs: 3600_000,
    },
  });
  ctx.base = `http://127.0.0.1:${ctx.server.port}`;
  ctx.owner = await ctx.identity.tokenFor('investigator', 'owner@example.org');
  const owner = await ctx.identity.identity.service.authenticate(ctx.owner);
  await ctx.identity.identity.cases.admit(owner.user, CASE_ID);
});

members.after.each(async (ctx) => {
  await ctx.server.close();
  await ctx.identity.close();
  await ctx.store.close();
  await rm(ctx.dir, { recursive: true, force: true });
});

members('the case manager adds, changes and removes members', async (ctx) => {
  await ctx.identity.tokenFor('analyst', 'ana@example.org');
  const added = await call(ctx, 'PUT', `/api/cases/${CASE_ID}/members`, ctx.owner, {
    email: 'ANA@example.org',
    level: 'view',
  });
  assert.is(added.status, 200, JSON.stringify(added.body));
  assert.is(added.body['level'], 'view');
  const listed = await call(ctx, 'GET', `/api/cases/${CASE_ID}/members`, ctx.owner);
  const emails = (listed.body['members'] as Array<{ email: string }>).map((m) => m.email);
  assert.equal(emails.sort(), ['ana@example.org', 'owner@example.org']);
  const changed = await call(ctx, 'PUT', `/api/cases/${CASE_ID}/members`, ctx.owner, {
    email: 'ana@example.org',
    level: 'contribute',
  });
  assert.is(changed.body['level'], 'contribute');
  const removed = await call(
    ctx,
    'DELETE',
    `/api/cases/${CASE_ID}/members/${String(added.body['userId'])}`,
    ctx.owner,
  );
  assert.is(removed.status, 204);
  const again = await call(
    ctx,
    'DELETE',
    `/api/cases/${CASE_ID}/members/${String(added.body['userId'])}`,
    ctx.owner,
  );
  assert.is(again.status, 404);
});

members(
  'outsiders and plain members cannot manage members; outsiders cannot list them',
  async (ctx) => {
    const outsider = await ctx.identity.tokenFor('investigator', 'out@example.org');
    const viewer = await ctx.identity.tokenFor('analyst', 'viewer@example.org');
    await call(ctx, 'PUT', `/api/cases/${CASE_ID}/members`, ctx.owner, {
      email: 'viewer@example.org',
      level: 'contribute',
    });
    for (const token of [outsider, viewer]) {
      const put = await call(ctx, 'PUT', `/api/cases/${CASE_ID}/members`, token, {
        email: 'out@example.org',
        level: 'manage',
      });
      assert.is(put.status, 403);
    }
    assert.is((await call(ctx, 'GET', `/api/cases/${CASE_ID}/members`, outsider)).status, 403);
    assert.is((await call(ctx, 'GET', `/api/cases/${CASE_ID}/members`, viewer)).status, 200);
    const admin = await call(ctx, 'GET', `/api/cases/${CASE_ID}/members`, ctx.identity.adminToken);
    assert.is(admin.status, 200, 'administrators see every case');
  },
);

members('refuses bad input, saying what was wrong', async (ctx) => {
  const cases = [
    [{ email: 'nobody@example.org', level: 'view' }, 404, 'no account'],
    [{ email: 'owner@example.org', level: 'owner' }, 400, 'level'],
    [{ email: 'not an email', level: 'view' }, 400, 'email'],
    [
      { email: 'owner@example.org', level: 'view', expiresAt: '2001-01-01T00:00:00Z' },
      400,
      'future',
    ],
    [{ email: 'owner@example.org', level: 'view', expiresAt: 'next tuesday' }, 400, 'expiresAt'],
  ] as const;
  for (const [body, status, word] of cases) {
    const reply = await call(ctx, 'PUT', `/api/cases/${CASE_ID}/members`, ctx.owner, body);
    assert.is(reply.status, status, JSON.stringify(body));
    assert.match(String(reply.body['message']), word);
  }
  const badCase = await call(ctx, 'GET', '/api/cases/..%2F..%2Fetc/members', ctx.owner);
  assert.is(badCase.status, 400);
  const noToken = await fetch(`${ctx.base}/api/cases/${CASE_ID}/members`);
  assert.is(noToken.status, 401);
});

members.run();
