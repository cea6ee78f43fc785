import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../audit/audit-log.ts';
import { IdentityStore } from './identity-store.ts';
import { CapabilityLinks, LinkGone } from './capability-links.ts';
import { Forbidden } from '../errors.ts';

interface Ctx {
  dir: string;
  store: IdentityStore;
  audit: AuditLog;
  links: CapabilityLinks;
  now: Date;
}

const links = suite<Ctx>('CapabilityLinks', {} as Ctx);

links.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'exhibit-links-'));
  ctx.store = await IdentityStore.open(join(ctx.dir, 'identity'));
  ctx.audit = await AuditLog.open(join(ctx.dir, 'audit'), { keyDir: join(ctx.dir, 'keys') });
  ctx.now = new Date('2026-06-01T12:00:00Z');
  ctx.links = new CapabilityLinks(ctx.store.database, ctx.audit, () => ctx.now);
});

links.after.each(async (ctx) => {
  await ctx.store.close();
  await ctx.audit.close();
  await rm(ctx.dir, { recursive: true, force: true });
});

async function refused(
  work: Promise<unknown>,
  kind: typeof Forbidden | typeof LinkGone,
  word: string,
) {
  try {
    await work;
    assert.unreachable('the link was accepted');
  } catch (err) {
    assert.instance(err, kind);
    assert.match((err as Error).message, word);
  }
}

const A = { action: 'file-request.upload', resource: 'file-request:r1' };

links('allows its one action on its one resource, and records each use', async (ctx) => {
  const { token } = await ctx.links.create({
    ...A,
    createdBy: 'u1',
    expiresAt: new Date('2026-06-02T00:00:00Z'),
  });
  const used = await ctx.links.use(token, A.action, A.resource, '203.0.113.9');
  assert.is(used.uses, 1);
  const actions = (await ctx.audit.list()).map((r) => r.action);
  assert.equal(actions, ['link.created', 'link.used']);
});

links('refuses other actions, other resources, forged and malformed tokens', async (ctx) => {
  const { token, link } = await ctx.links.create({
    ...A,
    createdBy: 'u1',
    expiresAt: new Date('2026-06-02T00:00:00Z'),
  });
  await refused(ctx.links.use(token, 'file-request.list', A.resource), Forbidden, 'does not allow');
  await refused(ctx.links.use(token, A.action, 'file-request:r2'), Forbidden, 'does not allow');
  const forged = `${link.id}.${'A'.repeat(32)}`;
  await refused(ctx.links.use(forged, A.action, A.resource), Forbidden, 'not valid');
  for (const bad of [undefined, '', 'x', `${link.id}.`, `../${token}`]) {
    await refused(ctx.links.use(bad, A.action, A.resource), Forbidden, 'not valid');
  }
});

links('stops working when it expires, is revoked, or is used up', async (ctx) => {
  const expiring = await ctx.links.create({
    ...A,
    createdBy: 'u1',
    expiresAt: new Date('2026-06-01T13:00:00Z'),
  });
  ctx.now = new Date('2026-06-01T13:00:01Z');
  await refused(ctx.links.use(expiring.token, A.action, A.resource), LinkGone, 'expired');

  const revocable = await ctx.links.create({
    ...A,
    createdBy: 'u1',
    expiresAt: new Date('2027-01-01T00:00:00Z'),
  });
  await ctx.links.revoke(revocable.link.id, 'u1');
  await refused(ctx.links.use(revocable.token, A.action, A.resource), LinkGone, 'withdrawn');

  const once = await ctx.links.create({
    ...A,
    createdBy: 'u1',
    expiresAt: new Date('2027-01-01T00:00:00Z'),
    maxUses: 1,
  });
  await ctx.links.use(once.token, A.action, A.resource);
  await refused(ctx.links.use(once.token, A.action, A.resource), LinkGone, 'used');
});

links('stores only a hash of the secret', async (ctx) => {
  const { token, link } = await ctx.links.create({
    ...A,
    createdBy: 'u1',
    expiresAt: new Date('2027-01-01T00:00:00Z'),
  });
  const secret = token.split('.')[1] as string;
  const stored = JSON.stringify(await ctx.links.forResource(A.resource));
  assert.not.ok(stored.includes(secret));
  assert.ok(stored.includes(link.secretHash));
});

links.run();
