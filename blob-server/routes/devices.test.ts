import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { apiServer } from '../../tests/helpers/api-server.ts';
import { testIdentity } from '../../tests/helpers/identity.ts';
import { testDevice, type TestDevice } from '../../tests/helpers/device.ts';
const CASE_ID = '00112233445566778899';

interface Ctx {
  identity: Awaited<ReturnType<typeof testIdentity>>;
  api: Awaited<ReturnType<typeof apiServer>>;
  base: string;
  ivy: string;
  ivyId: string;
  device: TestDevice;
}

async function call(
  ctx: Ctx,
  method: string,
  path: string,
  token: string | undefined,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${ctx.base}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

const routes = suite<Ctx>('device and custody routes', {} as Ctx);

async function setUp(ctx: Ctx): Promise<void> {
  ctx.identity = await testIdentity();
  const { identity } = ctx.identity;
  ctx.api = await apiServer(identity, { custody: identity.custody });
  ctx.base = ctx.api.base;
  ctx.ivy = await ctx.identity.tokenFor('investigator', 'ivy@example.org');
  const ivy = await identity.service.authenticate(ctx.ivy);
  ctx.ivyId = ivy.user.id;
  await identity.cases.admit(ivy.user, CASE_ID);
  ctx.device = await testDevice();
}

async function tearDown(ctx: Ctx): Promise<void> {
  await ctx.api.close();
  await ctx.identity.close();
}

routes.before.each(setUp);
routes.after.each(tearDown);

routes('need a signed-in caller', async (ctx) => {
  assert.is((await call(ctx, 'GET', '/api/devices', undefined)).status, 401);
  assert.is(
    (await call(ctx, 'POST', '/api/devices', undefined, await ctx.device.registration(ctx.ivyId)))
      .status,
    401,
  );
  assert.is(
    (await call(ctx, 'GET', `/api/cases/${CASE_ID}/evidence/evidence-01/custody`, undefined))
      .status,
    401,
  );
});

routes('refuse malformed registrations and logs, naming what is wrong', async (ctx) => {
  const bad = await call(ctx, 'POST', '/api/devices', ctx.ivy, {
    ...(await ctx.device.registration(ctx.ivyId)),
    publicKey: { kty: 'RSA' },
  });
  assert.is(bad.status, 400);
  assert.match(String(bad.body['message']), /publicKey/);
  const notJson = await call(ctx, 'POST', '/api/devices', ctx.ivy, '{"publicKey":');
  assert.is(notJson.status, 400);
  await call(ctx, 'POST', '/api/devices', ctx.ivy, await ctx.device.registration(ctx.ivyId));
  const entry = await ctx.device.next({
    user: ctx.ivyId,
    action: 'evidence.added',
    case: CASE_ID,
    evidence: 'evidence-01',
    details: { sha256: 'nothex', size: 1, name: 'a', type: 'b', source: 'file' },
  });
  const log = await call(ctx, 'POST', `/api/devices/${ctx.device.id}/log`, ctx.ivy, {
    entries: [entry],
  });
  assert.is(log.status, 400);
  assert.match(String(log.body['message']), /details/);
  const badId = await call(ctx, 'POST', '/api/devices/short/log', ctx.ivy, { entries: [entry] });
  assert.is(badId.status, 400);
  const badCase = await call(ctx, 'GET', '/api/cases/x/evidence/evidence-01/custody', ctx.ivy);
  assert.is(badCase.status, 400);
});

routes('register, send a log with a gap (told where to resume), then in order', async (ctx) => {
  const registered = await call(
    ctx,
    'POST',
    '/api/devices',
    ctx.ivy,
    await ctx.device.registration(ctx.ivyId),
  );
  assert.is(registered.status, 200);
  assert.is(registered.body['id'], ctx.device.id);
  const entries = [];
  for (const evidence of ['evidence-01', 'evidence-02']) {
    entries.push(
      await ctx.device.next({
        user: ctx.ivyId,
        action: 'evidence.added',
        case: CASE_ID,
        evidence,
        details: {
          sha256: 'c'.repeat(64),
          size: 5,
          name: `${evidence}.jpg`,
          type: 'image/jpeg',
          source: 'file',
        },
      }),
    );
  }
  const gap = await call(ctx, 'POST', `/api/devices/${ctx.device.id}/log`, ctx.ivy, {
    entries: [entries[1]],
  });
  assert.is(gap.status, 409);
  assert.is(gap.body['error'], 'device_log_gap');
  assert.is(gap.body['expected'], 0);
  const sent = await call(ctx, 'POST', `/api/devices/${ctx.device.id}/log`, ctx.ivy, { entries });
  assert.equal(sent.body, { accepted: 2, next: 2 });
  const listed = await call(ctx, 'GET', '/api/devices', ctx.ivy);
  assert.is((listed.body['devices'] as { entries: number }[])[0]?.entries, 2);

  const report = await call(
    ctx,
    'GET',
    `/api/cases/${CASE_ID}/evidence/evidence-02/custody`,
    ctx.ivy,
  );
  assert.is(report.status, 200);
  assert.equal(
    (report.body['events'] as { action: string }[]).map((e) => e.action),
    ['evidence.added'],
  );
  const outsider = await ctx.identity.tokenFor('investigator', 'out@example.org');
  const refused = await call(
    ctx,
    'GET',
    `/api/cases/${CASE_ID}/evidence/evidence-02/custody`,
    outsider,
  );
  assert.is(refused.status, 403);
  const foreign = await call(ctx, 'POST', `/api/devices/${ctx.device.id}/log`, outsider, {
    entries,
  });
  assert.is(foreign.status, 404);
  const revokedByOther = await call(ctx, 'DELETE', `/api/devices/${ctx.device.id}`, outsider);
  assert.is(revokedByOther.status, 404);
  const revoked = await call(ctx, 'DELETE', `/api/devices/${ctx.device.id}`, ctx.ivy);
  assert.ok(revoked.body['revokedAt']);
});

routes.run();

const activity = suite<Ctx>('case activity route', {} as Ctx);
activity.before.each(setUp);
activity.after.each(tearDown);

activity(
  'lists what happened on the case, newest first, paged, without every look at a file',
  async (ctx) => {
    await call(ctx, 'POST', '/api/devices', ctx.ivy, await ctx.device.registration(ctx.ivyId));
    const added = await ctx.device.next({
      user: ctx.ivyId,
      action: 'evidence.added',
      case: CASE_ID,
      evidence: 'evidence-01',
      details: {
        sha256: 'd'.repeat(64),
        size: 5,
        name: 'doorbell.mp4',
        type: 'video/mp4',
        source: 'file',
      },
    });
    const viewed = await ctx.device.next({
      user: ctx.ivyId,
      action: 'evidence.viewed',
      case: CASE_ID,
      evidence: 'evidence-01',
      details: { from: 'server' },
    });
    await call(ctx, 'POST', `/api/devices/${ctx.device.id}/log`, ctx.ivy, {
      entries: [added, viewed],
    });
    await ctx.identity.identity.audit.record({
      action: 'case.status_changed',
      actor: { userId: ctx.ivyId },
      target: `case:${CASE_ID}`,
      details: { from: 'open', to: 'under-review' },
      ip: '10.0.0.1',
    });
    const all = await call(ctx, 'GET', `/api/cases/${CASE_ID}/activity`, ctx.ivy);
    assert.is(all.status, 200);
    const items = all.body['items'] as {
      action: string;
      actor?: { name?: string };
      details: Record<string, unknown>;
    }[];
    assert.equal(
      items.map((i) => i.action),
      ['case.status_changed', 'evidence.added', 'case.created'],
    );
    assert.equal(items[0]?.details, { from: 'open', to: 'under-review' });
    assert.is(items[1]?.details['name'], 'doorbell.mp4');
    assert.is(items[0]?.actor?.name, 'investigator');
    assert.not.match(JSON.stringify(items), /10\.0\.0\.1/);

    const first = await call(ctx, 'GET', `/api/cases/${CASE_ID}/activity?limit=1`, ctx.ivy);
    const next = first.body['next'] as number;
    const second = await call(
      ctx,
      'GET',
      `/api/cases/${CASE_ID}/activity?limit=1&before=${next}`,
      ctx.ivy,
    );
    assert.equal(
      (second.body['items'] as { action: string }[]).map((i) => i.action),
      ['evidence.added'],
    );
    assert.is(
      (await call(ctx, 'GET', `/api/cases/${CASE_ID}/activity?before=x`, ctx.ivy)).status,
      400,
    );
    const outsider = await ctx.identity.tokenFor('investigator', 'out@example.org');
    assert.is((await call(ctx, 'GET', `/api/cases/${CASE_ID}/activity`, outsider)).status, 403);
  },
);

activity.run();
