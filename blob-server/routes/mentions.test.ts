import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { testIdentity } from '../../tests/helpers/identity.ts';
import { apiServer } from '../../tests/helpers/api-server.ts';
import { apiCall } from '../../tests/helpers/http.ts';
import type { CaseLevel } from '../../web/lib/shared/access-policy.ts';

const CASE_ID = 'case-mentions-0001';
const CLIP = 'evidence-clip-0001';

interface Person {
  token: string;
  id: string;
}

interface Ctx {
  identity: Awaited<ReturnType<typeof testIdentity>>;
  api: Awaited<ReturnType<typeof apiServer>>;
  base: string;
  ivy: Person;
  ana: Person;
  vic: Person;
  sam: Person;
}

const mentions = suite<Ctx>('POST /api/cases/:id/mentions', {} as Ctx);

mentions.before.each(async (ctx) => {
  ctx.identity = await testIdentity();
  const { identity } = ctx.identity;
  ctx.api = await apiServer(identity, {
    notifications: identity.notifications,
    mentionLimit: { limit: 5, windowMs: 60_000 },
  });
  ctx.base = ctx.api.base;
  // Ivy opens the case; Ana contributes, Vic only views, Sam is not a member.
  for (const [who, role] of [
    ['ivy', 'investigator'],
    ['ana', 'analyst'],
    ['vic', 'investigator'],
    ['sam', 'investigator'],
  ] as const) {
    const token = await ctx.identity.tokenFor(role, `${who}@example.org`);
    const { user } = await identity.service.authenticate(token);
    ctx[who] = { token, id: user.id };
  }
  const owner = await identity.service.authenticate(ctx.ivy.token);
  await identity.cases.admit(owner.user, CASE_ID);
  const share = (email: string, level: CaseLevel) =>
    identity.cases.setMember(owner, CASE_ID, { email, level }, { ip: '127.0.0.1' });
  await share('ana@example.org', 'contribute');
  await share('vic@example.org', 'view');
});

mentions.after.each(async (ctx) => {
  await ctx.api.close();
  await ctx.identity.close();
});

const mention = (ctx: Ctx, who: Person, body: unknown, caseId = CASE_ID) =>
  apiCall(ctx.base, 'POST', `/api/cases/${caseId}/mentions`, who.token, body);

async function notificationsOf(ctx: Ctx, who: Person) {
  return ctx.identity.identity.notifications.list(who.id, { limit: 30 });
}

mentions('notifies each mentioned member with a link to the item, and audits it', async (ctx) => {
  const res = await mention(ctx, ctx.ivy, {
    userIds: [ctx.ana.id, ctx.vic.id, ctx.ana.id],
    evidenceId: CLIP,
    excerpt: '@Ana look at 0:12',
  });
  assert.is(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body, { notified: 2 });
  for (const who of [ctx.ana, ctx.vic]) {
    const [note] = (await notificationsOf(ctx, who)).notifications;
    assert.is(note?.kind, 'case.mentioned');
    assert.is(note?.title, 'investigator mentioned you');
    assert.is(note?.body, '@Ana look at 0:12');
    assert.is(note?.link, `/cases/${CASE_ID}/evidence/${CLIP}`);
  }
  const audited = (await ctx.identity.identity.audit.about(`case:${CASE_ID}`)).find(
    (e) => e.action === 'case.mentioned',
  );
  assert.equal(audited?.details?.['mentioned'], [ctx.ana.id, ctx.vic.id]);
  assert.is(audited?.actor?.userId, ctx.ivy.id);
});

mentions('a mention of oneself notifies nobody', async (ctx) => {
  const res = await mention(ctx, ctx.ana, { userIds: [ctx.ana.id], excerpt: 'note to self' });
  assert.equal(res.body, { notified: 0 });
});

mentions('refuses bad input, saying what was wrong', async (ctx) => {
  const cases: Array<[unknown, string]> = [
    [{ excerpt: 'x' }, 'userIds:'],
    [{ userIds: [], excerpt: 'x' }, 'name at least one person'],
    [{ userIds: [ctx.ana.id], excerpt: '   ' }, 'excerpt: must quote the comment'],
    [{ userIds: [ctx.ana.id], excerpt: 'x'.repeat(301) }, 'at most 300 characters'],
    [{ userIds: ['../x'], excerpt: 'x' }, 'must be an id'],
    [{ userIds: [ctx.ana.id], evidenceId: 'a/b', excerpt: 'x' }, 'evidenceId:'],
  ];
  for (const [body, message] of cases) {
    const res = await mention(ctx, ctx.ivy, body);
    assert.is(res.status, 400, JSON.stringify(body));
    assert.match(String(res.body['message']), message);
  }
  const badCase = await mention(ctx, ctx.ivy, { userIds: [ctx.ana.id], excerpt: 'x' }, 'a b');
  assert.is(badCase.status, 400);
});

mentions('refuses to notify someone who is not a member', async (ctx) => {
  const res = await mention(ctx, ctx.ivy, { userIds: [ctx.ana.id, ctx.sam.id], excerpt: 'x' });
  assert.is(res.status, 400);
  assert.match(String(res.body['message']), `user ${ctx.sam.id} is not a member of this case`);
  // Nothing goes out when any name is refused.
  assert.is((await notificationsOf(ctx, ctx.ana)).unread, 0);
});

mentions('refuses viewers and outsiders as senders', async (ctx) => {
  const viewer = await mention(ctx, ctx.vic, { userIds: [ctx.ana.id], excerpt: 'x' });
  assert.is(viewer.status, 403);
  assert.match(String(viewer.body['message']), 'may write in this case');
  const outsider = await mention(ctx, ctx.sam, { userIds: [ctx.ana.id], excerpt: 'x' });
  assert.is(outsider.status, 403);
  const anonymous = await fetch(`${ctx.base}/api/cases/${CASE_ID}/mentions`, { method: 'POST' });
  assert.is(anonymous.status, 401);
  assert.is((await notificationsOf(ctx, ctx.ana)).unread, 0);
});

mentions('limits how many mentions one person sends', async (ctx) => {
  for (let i = 0; i < 5; i++) {
    const res = await mention(ctx, ctx.ivy, { userIds: [ctx.ana.id], excerpt: `n${i}` });
    assert.is(res.status, 200);
  }
  const refused = await mention(ctx, ctx.ivy, { userIds: [ctx.ana.id], excerpt: 'again' });
  assert.is(refused.status, 429);
  assert.match(String(refused.body['message']), 'too many mentions sent');
  const other = await mention(ctx, ctx.ana, { userIds: [ctx.ivy.id], excerpt: 'hi' });
  assert.is(other.status, 200);
});

mentions.run();
