import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tus from 'tus-js-client';
import { createBlobServer, type BlobServer } from '../server.ts';
import { createFsStore } from '../storage/fs-store.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { testIdentity } from '../../tests/helpers/identity.ts';
import { apiCall } from '../../tests/helpers/http.ts';
import type { Logger } from '../../sync-server/logger.ts';
import type { AppNotification } from '../../web/lib/shared/notifications.ts';

const quiet: Logger = { info() {}, warn() {}, error() {} };
const CASE_ID = 'case-notify-0001';

interface Ctx {
  dir: string;
  store: BlobStore;
  identity: Awaited<ReturnType<typeof testIdentity>>;
  server: BlobServer;
  base: string;
  ivy: { token: string; id: string };
  ana: { token: string; id: string };
}

const api = suite<Ctx>('notifications API', {} as Ctx);

api.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'exhibit-notifications-api-'));
  ctx.store = await createFsStore(join(ctx.dir, 'blobs'));
  ctx.identity = await testIdentity();
  const { identity } = ctx.identity;
  ctx.server = await createBlobServer({
    store: ctx.store,
    maxUploadBytes: 1024,
    log: quiet,
    auth: { service: identity.service, cases: identity.cases, refreshTtlMs: 3600_000 },
    notifications: identity.notifications,
  });
  ctx.base = `http://127.0.0.1:${ctx.server.port}`;
  for (const [who, role] of [
    ['ivy', 'investigator'],
    ['ana', 'analyst'],
  ] as const) {
    const token = await ctx.identity.tokenFor(role, `${who}@example.org`);
    const { user } = await identity.service.authenticate(token);
    ctx[who] = { token, id: user.id };
  }
});

api.after.each(async (ctx) => {
  await ctx.server.close();
  await ctx.identity.close();
  await ctx.store.close();
  await rm(ctx.dir, { recursive: true, force: true });
});

async function listOf(ctx: Ctx, token: string, query = '') {
  const res = await apiCall(ctx.base, 'GET', `/api/notifications${query}`, token);
  assert.is(res.status, 200, JSON.stringify(res.body));
  return res.body as { notifications: AppNotification[]; unread: number; next?: string };
}

api('only signed-in callers, each seeing their own', async (ctx) => {
  const anonymous = await fetch(`${ctx.base}/api/notifications`);
  assert.is(anonymous.status, 401);
  await ctx.identity.identity.notifications.notify({
    userIds: [ctx.ana.id],
    kind: 'case.mentioned',
    title: 'Ivy mentioned you',
    link: `/cases/${CASE_ID}`,
  });
  const ana = await listOf(ctx, ctx.ana.token);
  assert.is(ana.unread, 1);
  assert.is(ana.notifications[0]!.title, 'Ivy mentioned you');
  assert.is((ana.notifications[0] as unknown as Record<string, unknown>)['userId'], undefined);
  const ivy = await listOf(ctx, ctx.ivy.token);
  assert.equal(ivy, { notifications: [], unread: 0 });
});

api('pages with before and limit, and refuses a bad query saying why', async (ctx) => {
  for (let i = 0; i < 3; i++) {
    await ctx.identity.identity.notifications.notify({
      userIds: [ctx.ana.id],
      kind: 'k',
      title: `n${i}`,
    });
  }
  const first = await listOf(ctx, ctx.ana.token, '?limit=2');
  assert.equal(
    first.notifications.map((n) => n.title),
    ['n2', 'n1'],
  );
  const rest = await listOf(ctx, ctx.ana.token, `?limit=2&before=${first.next!}`);
  assert.equal(
    rest.notifications.map((n) => n.title),
    ['n0'],
  );
  const bad = await apiCall(ctx.base, 'GET', '/api/notifications?limit=1000', ctx.ana.token);
  assert.is(bad.status, 400);
  assert.match(String(bad.body['message']), 'limit: must be at most 100');
  const cursor = await apiCall(ctx.base, 'GET', '/api/notifications?before=x', ctx.ana.token);
  assert.is(cursor.status, 400);
  assert.match(String(cursor.body['message']), 'before:');
});

api("marks one or all read; another user's ids change nothing", async (ctx) => {
  const notifications = ctx.identity.identity.notifications;
  const [first] = await notifications.notify({ userIds: [ctx.ana.id], kind: 'k', title: 'a' });
  await notifications.notify({ userIds: [ctx.ana.id], kind: 'k', title: 'b' });
  const read = (token: string, body: unknown) =>
    apiCall(ctx.base, 'POST', '/api/notifications/read', token, body);

  const stranger = await read(ctx.ivy.token, { ids: [first!.id] });
  assert.is(stranger.status, 200);
  assert.equal(stranger.body, { marked: 0, unread: 0 });
  assert.is((await listOf(ctx, ctx.ana.token)).unread, 2);

  assert.equal((await read(ctx.ana.token, { ids: [first!.id] })).body, { marked: 1, unread: 1 });
  assert.equal((await read(ctx.ana.token, { all: true })).body, { marked: 1, unread: 0 });

  const bad = await read(ctx.ana.token, { ids: ['../../x'] });
  assert.is(bad.status, 400);
  assert.match(String(bad.body['message']), 'notification id');
  assert.is((await read(ctx.ana.token, { all: false })).status, 400);
  const anonymous = await fetch(`${ctx.base}/api/notifications/read`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ all: true }),
  });
  assert.is(anonymous.status, 401);
});

api('a verified upload tells the other members of the case, not the uploader', async (ctx) => {
  const { identity } = ctx.identity;
  const ivy = await identity.service.authenticate(ctx.ivy.token);
  await identity.cases.admit(ivy.user, CASE_ID);
  await identity.cases.setMember(
    ivy,
    CASE_ID,
    { email: 'ana@example.org', level: 'view' },
    { ip: '127.0.0.1' },
  );
  await new Promise<void>((resolve, reject) => {
    new tus.Upload(randomBytes(4096), {
      endpoint: `${ctx.base}/api/uploads`,
      headers: { Authorization: `Bearer ${ctx.ivy.token}` },
      metadata: { case: CASE_ID, filename: 'scene.mp4', filetype: 'video/mp4' },
      retryDelays: [],
      onError: reject,
      onSuccess: () => resolve(),
    }).start();
  });
  let ana = await listOf(ctx, ctx.ana.token);
  for (let i = 0; i < 50 && ana.unread === 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    ana = await listOf(ctx, ctx.ana.token);
  }
  assert.is(ana.unread, 1);
  const [news] = ana.notifications;
  assert.is(news!.kind, 'evidence.added');
  assert.is(news!.title, 'New evidence: scene.mp4');
  assert.match(news!.body ?? '', 'scene.mp4');
  assert.is(news!.link, `/cases/${CASE_ID}`);
  assert.is(news!.caseId, CASE_ID);
  assert.is(news!.actorId, ctx.ivy.id);
  assert.is((await listOf(ctx, ctx.ivy.token)).notifications.length, 0);
});

api.run();
