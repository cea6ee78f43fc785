import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import type { Logger } from '../../sync-server/logger.ts';
import type { User } from '../identity/identity-store.ts';
import { testUser } from '../../tests/helpers/users.ts';
import { Notifications } from './notifications.ts';
import type { Mailer, MailMessage } from './mailer.ts';
import { BadRequest } from '../errors.ts';

const CASE_ID = 'case-0011223344';

interface Ctx {
  dir: string;
  db: Level<string, unknown>;
  users: Map<string, User>;
  members: Array<{ userId: string; expiresAt?: string }>;
  mailed: MailMessage[];
  warnings: string[];
  notifications: Notifications;
  make(options?: { maxPerUser?: number; mailer?: Mailer }): Notifications;
}

const recordingLog = (ctx: Ctx): Logger => ({
  info() {},
  warn: (event) => void ctx.warnings.push(event),
  error: (event) => void ctx.warnings.push(event),
});

const recordingMailer = (ctx: Ctx): Mailer => ({
  send: async (message) => void ctx.mailed.push(message),
  close() {},
});

function setUp(name: string) {
  const s = suite<Ctx>(name, {} as Ctx);
  s.before.each(async (ctx) => {
    ctx.dir = await mkdtemp(join(tmpdir(), 'exhibit-notifications-'));
    ctx.db = new Level<string, unknown>(ctx.dir, { valueEncoding: 'json' });
    await ctx.db.open();
    ctx.users = new Map(
      [
        testUser('ivy'),
        testUser('ana', { role: 'analyst' }),
        testUser('ada', { role: 'administrator' }),
        testUser('dan', { disabled: true }),
      ].map((u) => [u.id, u]),
    );
    ctx.members = [];
    ctx.mailed = [];
    ctx.warnings = [];
    ctx.make = (options = {}) =>
      new Notifications({
        db: ctx.db,
        users: { getUser: async (id) => ctx.users.get(id) },
        caseMembers: { members: async () => ctx.members },
        log: recordingLog(ctx),
        mailer: options.mailer ?? recordingMailer(ctx),
        ...(options.maxPerUser ? { maxPerUser: options.maxPerUser } : {}),
      });
    ctx.notifications = ctx.make();
  });
  s.after.each(async (ctx) => {
    await ctx.notifications.close();
    await ctx.db.close();
    await rm(ctx.dir, { recursive: true, force: true });
  });
  return s;
}

const notify = setUp('Notifications.notify');

notify(
  'stores one notification per recipient, not for the actor or disabled accounts',
  async (ctx) => {
    const stored = await ctx.notifications.notify({
      userIds: ['ivy', 'ana', 'ana', 'dan', 'nobody'],
      kind: 'case.mentioned',
      title: 'Ivy mentioned you',
      body: 'Look at the second clip.',
      caseId: CASE_ID,
      link: `/cases/${CASE_ID}`,
      actorId: 'ivy',
    });
    assert.is(stored.length, 1);
    const page = await ctx.notifications.list('ana');
    assert.is(page.unread, 1);
    assert.equal(page.notifications[0], stored[0]);
    assert.is(page.notifications[0]!.title, 'Ivy mentioned you');
    assert.is(page.notifications[0]!.link, `/cases/${CASE_ID}`);
    assert.is(page.notifications[0]!.actorId, 'ivy');
    assert.is(page.notifications[0]!.readAt, undefined);
    for (const nobody of ['ivy', 'dan', 'nobody']) {
      assert.is((await ctx.notifications.list(nobody)).notifications.length, 0, nobody);
    }
  },
);

notify('mails each recipient once, after storing', async (ctx) => {
  await ctx.notifications.notify({
    userIds: ['ana', 'ada'],
    kind: 'case.assigned',
    title: 'You were assigned a case',
    link: '/cases/x1234567',
  });
  await ctx.notifications.flush();
  assert.equal(ctx.mailed.map((m) => m.to.address).sort(), ['ada@example.org', 'ana@example.org']);
  assert.is(ctx.mailed[0]!.link, '/cases/x1234567');
});

notify('a failing mailer is logged and the in-app notification stands', async (ctx) => {
  await ctx.notifications.close();
  ctx.notifications = ctx.make({
    mailer: { send: () => Promise.reject(new Error('connection refused')), close() {} },
  });
  const stored = await ctx.notifications.notify({ userIds: ['ana'], kind: 'k', title: 'Hello' });
  await ctx.notifications.flush();
  assert.is(stored.length, 1);
  assert.is((await ctx.notifications.list('ana')).unread, 1);
  assert.equal(ctx.warnings, ['notification.mail_failed']);
});

notify('refuses links outside the app and shortens long titles', async (ctx) => {
  for (const link of ['https://evil.example/', '//evil.example/x', 'cases/1']) {
    try {
      await ctx.notifications.notify({ userIds: ['ana'], kind: 'k', title: 't', link });
      assert.unreachable(link);
    } catch (err) {
      assert.instance(err, BadRequest);
    }
  }
  const [long] = await ctx.notifications.notify({
    userIds: ['ana'],
    kind: 'k',
    title: 'x'.repeat(500),
  });
  assert.is(long!.title.length, 200);
});

notify('keeps only the newest notifications of a user', async (ctx) => {
  await ctx.notifications.close();
  ctx.notifications = ctx.make({ maxPerUser: 5 });
  for (let i = 0; i < 8; i++) {
    await ctx.notifications.notify({ userIds: ['ana', 'ada'], kind: 'k', title: `n${i}` });
  }
  const page = await ctx.notifications.list('ana', { limit: 100 });
  assert.equal(
    page.notifications.map((n) => n.title),
    ['n7', 'n6', 'n5', 'n4', 'n3'],
  );
  assert.is(page.unread, 5);
  assert.is((await ctx.notifications.list('ada')).notifications.length, 5);
});

const notifyCase = setUp('Notifications.notifyCase');

notifyCase('tells the live members of the case, administrators only when members', async (ctx) => {
  ctx.users.set('sam', testUser('sam', { role: 'supervisor' }));
  ctx.users.set('old', testUser('old'));
  ctx.members = [
    { userId: 'ivy' },
    { userId: 'ana' },
    { userId: 'sam' },
    { userId: 'dan' },
    { userId: 'old', expiresAt: '2020-01-01T00:00:00.000Z' },
  ];
  await ctx.notifications.notifyCase(CASE_ID, {
    kind: 'evidence.added',
    title: 'New evidence: a.mp4',
    link: `/cases/${CASE_ID}`,
    actorId: 'ivy',
  });
  const told = [];
  for (const id of ctx.users.keys()) {
    const page = await ctx.notifications.list(id);
    if (page.notifications.length > 0) {
      told.push(id);
      assert.is(page.notifications[0]!.caseId, CASE_ID);
    }
  }
  assert.equal(told.sort(), ['ana', 'sam']);
});

const list = setUp('Notifications.list');

list('pages newest first with a cursor and counts unread across pages', async (ctx) => {
  for (let i = 0; i < 5; i++) {
    await ctx.notifications.notify({ userIds: ['ana'], kind: 'k', title: `n${i}` });
  }
  const first = await ctx.notifications.list('ana', { limit: 2 });
  assert.equal(
    first.notifications.map((n) => n.title),
    ['n4', 'n3'],
  );
  assert.is(first.unread, 5);
  const second = await ctx.notifications.list('ana', { limit: 2, before: first.next! });
  assert.equal(
    second.notifications.map((n) => n.title),
    ['n2', 'n1'],
  );
  const last = await ctx.notifications.list('ana', { limit: 2, before: second.next! });
  assert.equal(
    last.notifications.map((n) => n.title),
    ['n0'],
  );
  assert.is(last.next, undefined);
});

const markRead = setUp('Notifications.markRead');

markRead('marks chosen or all of the user own notifications read', async (ctx) => {
  for (let i = 0; i < 3; i++) {
    await ctx.notifications.notify({ userIds: ['ana'], kind: 'k', title: `n${i}` });
  }
  const { notifications } = await ctx.notifications.list('ana');
  const one = await ctx.notifications.markRead('ana', [notifications[0]!.id]);
  assert.equal(one, { marked: 1, unread: 2 });
  const again = await ctx.notifications.markRead('ana', [notifications[0]!.id]);
  assert.equal(again, { marked: 0, unread: 2 });
  const after = await ctx.notifications.list('ana');
  assert.type(after.notifications[0]!.readAt, 'string');
  assert.is(after.notifications[1]!.readAt, undefined);
  assert.equal(await ctx.notifications.markRead('ana', 'all'), { marked: 2, unread: 0 });
});

markRead("cannot mark another user's notifications", async (ctx) => {
  const [anas] = await ctx.notifications.notify({ userIds: ['ana'], kind: 'k', title: 'for ana' });
  assert.equal(await ctx.notifications.markRead('ada', [anas!.id]), { marked: 0, unread: 0 });
  assert.equal(await ctx.notifications.markRead('ada', 'all'), { marked: 0, unread: 0 });
  assert.is((await ctx.notifications.list('ana')).unread, 1);
  assert.is((await ctx.notifications.list('ada')).notifications.length, 0);
});

notify.run();
notifyCase.run();
list.run();
markRead.run();
