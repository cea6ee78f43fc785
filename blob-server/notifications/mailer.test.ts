import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import type { User } from '../identity/identity-store.ts';
import { testUser } from '../../tests/helpers/users.ts';
import { startSmtpServer, type TestSmtpServer } from '../../tests/helpers/smtp.ts';
import { freePort } from '../../tests/helpers/net.ts';
import { Notifications } from './notifications.ts';
import { composeMail, smtpMailer, type MailSettings } from './mailer.ts';

const PUBLIC_URL = 'https://exhibit.example.org';
const AUTH = { user: 'exhibit', pass: 's3cret pass' };

const people = new Map<string, User>(['ivy', 'ana', 'ada'].map((id) => [id, testUser(id)]));

interface Ctx {
  dir: string;
  db: Level<string, unknown>;
  smtp: TestSmtpServer;
  warnings: Array<Record<string, unknown>>;
  notifications: Notifications;
}

const smtp = suite<Ctx>('notification mail over SMTP', {} as Ctx);

function notificationsWith(ctx: Ctx, settings: MailSettings): Notifications {
  return new Notifications({
    db: ctx.db,
    users: { getUser: async (id) => people.get(id) },
    caseMembers: { members: async () => [...people.keys()].map((userId) => ({ userId })) },
    log: { info() {}, warn: (_e, fields = {}) => void ctx.warnings.push(fields), error() {} },
    mailer: smtpMailer(settings),
  });
}

smtp.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'exhibit-mail-'));
  ctx.db = new Level<string, unknown>(ctx.dir, { valueEncoding: 'json' });
  await ctx.db.open();
  ctx.warnings = [];
  ctx.smtp = await startSmtpServer({ auth: AUTH, refuse: (address) => address.startsWith('ada@') });
  ctx.notifications = notificationsWith(ctx, {
    smtpUrl: ctx.smtp.url,
    from: 'Exhibit <exhibit@example.org>',
    publicUrl: PUBLIC_URL,
  });
});

smtp.after.each(async (ctx) => {
  await ctx.notifications.close();
  await ctx.smtp.close();
  await ctx.db.close();
  await rm(ctx.dir, { recursive: true, force: true });
});

smtp(
  'a case notification reaches each member but the actor, with subject and link',
  async (ctx) => {
    await ctx.notifications.notifyCase('case-0011223344', {
      kind: 'evidence.added',
      title: 'New evidence: scene.mp4',
      body: 'IVY added scene.mp4 to a case you work on.',
      link: '/cases/case-0011223344',
      actorId: 'ivy',
    });
    const mail = await ctx.smtp.waitFor((m) => m.to.includes('ana@example.org'));
    assert.equal(mail.envelope.to, ['ana@example.org']);
    assert.is(mail.envelope.from, 'exhibit@example.org');
    assert.is(mail.from, 'exhibit@example.org');
    assert.is(mail.subject, 'New evidence: scene.mp4');
    assert.match(mail.text, 'IVY added scene.mp4 to a case you work on.');
    assert.equal(mail.links, [`${PUBLIC_URL}/cases/case-0011223344`]);
    assert.match(mail.html, `href="${PUBLIC_URL}/cases/case-0011223344"`);
    await ctx.notifications.flush();
    assert.equal(
      ctx.smtp.messages.flatMap((m) => m.envelope.to),
      ['ana@example.org'],
      'not the actor; the refused mailbox got nothing',
    );
  },
);

smtp('a refused recipient is logged and still notified in the app', async (ctx) => {
  await ctx.notifications.notify({ userIds: ['ada'], kind: 'k', title: 'For Ada' });
  await ctx.notifications.flush();
  assert.is(ctx.smtp.messages.length, 0);
  assert.is(ctx.warnings.length, 1);
  assert.is(ctx.warnings[0]!['to'], 'ada@example.org');
  assert.match(String(ctx.warnings[0]!['error']), /550|no mailbox/);
  assert.is((await ctx.notifications.list('ada')).unread, 1);
});

smtp('an unreachable SMTP server holds nothing up', async (ctx) => {
  await ctx.notifications.close();
  ctx.notifications = notificationsWith(ctx, {
    smtpUrl: `smtp://127.0.0.1:${await freePort()}`,
    from: 'exhibit@example.org',
    publicUrl: PUBLIC_URL,
  });
  const stored = await ctx.notifications.notify({ userIds: ['ana'], kind: 'k', title: 'Hi' });
  assert.is(stored.length, 1);
  await ctx.notifications.flush();
  assert.match(String(ctx.warnings[0]!['error']), /ECONNREFUSED/);
});

smtp('wrong SMTP credentials are logged as a failed delivery', async (ctx) => {
  await ctx.notifications.close();
  ctx.notifications = notificationsWith(ctx, {
    smtpUrl: ctx.smtp.url.replace(encodeURIComponent(AUTH.pass), 'wrong'),
    from: 'exhibit@example.org',
    publicUrl: PUBLIC_URL,
  });
  await ctx.notifications.notify({ userIds: ['ana'], kind: 'k', title: 'Hi' });
  await ctx.notifications.flush();
  assert.is(ctx.smtp.messages.length, 0);
  assert.match(String(ctx.warnings[0]!['error']), /Invalid username or password|535/);
});

const compose = suite('composeMail');

compose('escapes HTML and keeps the subject on one line', () => {
  const mail = composeMail(
    { title: 'New evidence: a\r\nBcc: x@y.z', body: '<script>x</script>', link: '/cases/abc' },
    'https://exhibit.example.org/base/',
  );
  assert.is(mail.subject, 'New evidence: a Bcc: x@y.z');
  assert.match(mail.html, '&lt;script&gt;x&lt;/script&gt;');
  assert.not.match(mail.html, '<script>');
  assert.match(mail.text, 'Open in Exhibit: https://exhibit.example.org/base/cases/abc');
});

smtp.run();
compose.run();
