import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSyncServer, type SyncServer } from '../../sync-server/server.ts';
import type { Logger } from '../../sync-server/logger.ts';
import { identitySyncAuth } from '../../blob-server/identity/sync-auth.ts';
import type { Authenticated } from '../../blob-server/identity/auth-service.ts';
import {
  addEvidence,
  assignCase,
  initCase,
  readCaseIndex,
  readMeta,
  updateMeta,
} from '../../web/lib/shared/case-doc.ts';
import { CloseCode } from '../../web/lib/shared/sync-protocol.ts';
import { testIdentity } from '../helpers/identity.ts';
import { TestPeer, waitFor } from '../helpers/sync-client.ts';

/**
 * Case-level access over the sync socket, with the real identity service: who may open, read
 * and write a case document, whose own case list shows it, and how changes reach open
 * connections at once.
 */
const quiet: Logger = { info() {}, warn() {}, error() {} };
const CASE_ID = 'fedcba9876543210';
const CASE = `case.${CASE_ID}`;
const DIGEST = 'ab'.repeat(32);

interface Ctx {
  dir: string;
  identity: Awaited<ReturnType<typeof testIdentity>>;
  admin: Authenticated;
  server: SyncServer;
  url: string;
  peers: TestPeer[];
}

const access = suite<Ctx>('case access over sync', {} as Ctx);

access.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'exhibit-case-access-'));
  ctx.identity = await testIdentity();
  ctx.admin = await ctx.identity.identity.service.authenticate(ctx.identity.adminToken);
  ctx.server = await createSyncServer({
    dataDir: ctx.dir,
    maxMessageBytes: 1024 * 1024,
    log: quiet,
    auth: identitySyncAuth(
      ctx.identity.identity.service,
      ctx.identity.identity.cases,
      ctx.identity.identity.audit,
      { caseChangeWindowMs: 100, notifications: ctx.identity.identity.notifications },
    ),
  });
  ctx.url = `ws://127.0.0.1:${ctx.server.port}/sync`;
  ctx.peers = [];
});

access.after.each(async (ctx) => {
  for (const p of ctx.peers) p.destroy();
  await ctx.server.close();
  await ctx.identity.close();
  await rm(ctx.dir, { recursive: true, force: true });
});

function peer(ctx: Ctx, name: string, token: string): TestPeer {
  const p = new TestPeer(ctx.url, name, token);
  ctx.peers.push(p);
  return p;
}

function closesOf(p: TestPeer): number[] {
  const codes: number[] = [];
  p.provider.on('connection-close', (e: CloseEvent | null) => {
    if (e) codes.push(e.code);
  });
  return codes;
}

async function eventually(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 250 && !(await check()); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(await check(), 'timed out');
}

/** Ivy opens a new case (becoming its manager) and writes it; returns her peer. */
async function ivyOpensCase(ctx: Ctx): Promise<{ ivy: TestPeer; token: string }> {
  const token = await ctx.identity.tokenFor('investigator', 'ivy@example.org');
  const ivy = peer(ctx, CASE, token);
  await ivy.synced();
  initCase(ivy.doc, { id: CASE_ID, title: 'Arson', description: '', tags: [], now: 'now' });
  addEvidence(ivy.doc, {
    id: 'e1',
    name: 'cctv.mp4',
    type: 'video/mp4',
    size: 1,
    sha256: DIGEST,
    addedAt: 'now',
    state: 'verified',
  });
  await ivy.savedOnServer();
  return { ivy, token };
}

access(
  'changes made through sync are in the audit trail, one entry per burst of edits',
  async (ctx) => {
    const { ivy } = await ivyOpensCase(ctx);
    const audit = ctx.identity.identity.audit;
    const changes = async () =>
      (await audit.about(`case:${CASE_ID}`)).filter((e) => e.action === 'case.changed');
    const until = async (count: number) => {
      for (let i = 0; i < 300 && (await changes()).length < count; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      return changes();
    };
    const [first] = await until(1);
    assert.equal(first?.details?.['parts'], ['evidence', 'meta']);
    const created = (await audit.about(`case:${CASE_ID}`)).find((e) => e.action === 'case.created');
    assert.is(first?.actor?.userId, created?.actor?.userId);
    ivy.doc.getText('description').insert(0, 'Fire at the warehouse');
    ivy.doc.getText('description').insert(0, 'Arson: ');
    await ivy.savedOnServer();
    const second = (await until(2))[1];
    assert.equal(second?.details?.['parts'], ['description']);
    assert.is(second?.details?.['updates'], 2);
  },
);

access(
  'status changes and assignment are audited on their own; the assignee is told',
  async (ctx) => {
    const { ivy, token } = await ivyOpensCase(ctx);
    const { identity } = ctx.identity;
    const ivyId = (await identity.service.authenticate(token)).user.id;
    const ana = await identity.service.authenticate(
      await ctx.identity.tokenFor('investigator', 'ana@example.org'),
    );
    updateMeta(ivy.doc, { status: 'under-review' }, 'later');
    assignCase(ivy.doc, { id: ana.user.id, name: 'Ana' }, 'later');
    await ivy.savedOnServer();
    const entries = async () => await identity.audit.about(`case:${CASE_ID}`);
    await eventually(async () => (await entries()).some((e) => e.action === 'case.assigned'));
    const status = (await entries()).find((e) => e.action === 'case.status_changed');
    assert.equal(status?.details, { from: 'open', to: 'under-review' });
    assert.is(status?.actor?.userId, ivyId);
    const assigned = (await entries()).find((e) => e.action === 'case.assigned');
    assert.equal(assigned?.details, { added: [ana.user.id], removed: [] });
    await eventually(
      async () => (await identity.notifications.list(ana.user.id)).notifications.length === 1,
    );
    const [told] = (await identity.notifications.list(ana.user.id)).notifications;
    assert.is(told?.kind, 'case.assigned');
    assert.is(told?.title, 'You were assigned to “Arson”');
    assert.is(told?.link, `/cases/${CASE_ID}`);
  },
);

access('the investigator who opens a case manages it and finds it in her own list', async (ctx) => {
  const { token } = await ivyOpensCase(ctx);
  const own = peer(ctx, 'cases', token);
  await waitFor(() => readCaseIndex(own.doc).some((c) => c.id === CASE_ID), 'her own index');
  const everyone = peer(ctx, 'cases', ctx.identity.adminToken);
  await waitFor(() => readCaseIndex(everyone.doc).length === 1, 'the global index');
  const ivy = await ctx.identity.identity.service.authenticate(token);
  assert.is(await ctx.identity.identity.cases.levelFor(ivy.user, CASE_ID), 'manage');
});

access(
  'another investigator can neither open nor list a case he is not a member of',
  async (ctx) => {
    await ivyOpensCase(ctx);
    const token = await ctx.identity.tokenFor('investigator', 'ian@example.org');
    const ian = peer(ctx, CASE, token);
    const codes = closesOf(ian);
    await waitFor(() => codes.includes(CloseCode.forbidden), 'the refusal');
    const list = peer(ctx, 'cases', token);
    await list.synced();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(readCaseIndex(list.doc), []);
    const ianAuth = await ctx.identity.identity.service.authenticate(token);
    assert.not.ok(await ctx.identity.identity.cases.mayDownload(ianAuth.user, DIGEST));
  },
);

access(
  'a viewer reads but cannot write; made a contributor, his open connection upgrades',
  async (ctx) => {
    const { ivy } = await ivyOpensCase(ctx);
    const token = await ctx.identity.tokenFor('analyst', 'ana@example.org');
    const cases = ctx.identity.identity.cases;
    await cases.setMember(
      ctx.admin,
      CASE_ID,
      { email: 'ana@example.org', level: 'view' },
      {
        ip: '127.0.0.1',
      },
    );
    const list = peer(ctx, 'cases', token);
    await waitFor(() => readCaseIndex(list.doc).length === 1, 'the case in her list');
    const ana = peer(ctx, CASE, token);
    await waitFor(() => readMeta(ana.doc).title === 'Arson', 'the case for the viewer');
    ana.doc.getText('notes').insert(0, 'written by a viewer');
    await new Promise((r) => setTimeout(r, 300));
    assert.is(ivy.doc.getText('notes').toString(), '', 'the viewer’s write was dropped');
    const dropped = (await ctx.identity.identity.audit.list()).filter(
      (r) => r.action === 'sync.write_dropped',
    );
    assert.is(dropped.length, 1, 'the dropped write is recorded once');
    assert.is(dropped[0]?.target, CASE);
    const anaAuth = await ctx.identity.identity.service.authenticate(token);
    // The document lists DIGEST as verified, but documents are written by clients: only what the
    // server itself verified for the case opens downloads.
    assert.not.ok(await cases.mayDownload(anaAuth.user, DIGEST), 'a claim in the document');
    await cases.addEvidence(CASE_ID, DIGEST);
    assert.ok(await cases.mayDownload(anaAuth.user, DIGEST), 'a viewer may download its evidence');

    const codes = closesOf(ana);
    await cases.setMember(
      ctx.admin,
      CASE_ID,
      { email: 'ana@example.org', level: 'contribute' },
      { ip: '127.0.0.1' },
    );
    await waitFor(() => codes.includes(CloseCode.accessChanged), 'the reconnect');
    await waitFor(
      () => ivy.doc.getText('notes').toString().includes('written by a viewer'),
      'the write after the upgrade (resent on reconnect)',
      8000,
    );
  },
);

access(
  'removing a member closes their connection and drops the case from their list',
  async (ctx) => {
    await ivyOpensCase(ctx);
    const token = await ctx.identity.tokenFor('investigator', 'ian@example.org');
    const cases = ctx.identity.identity.cases;
    await cases.setMember(
      ctx.admin,
      CASE_ID,
      { email: 'ian@example.org', level: 'contribute' },
      {
        ip: '127.0.0.1',
      },
    );
    const list = peer(ctx, 'cases', token);
    await waitFor(() => readCaseIndex(list.doc).length === 1, 'the case in his list');
    const ian = peer(ctx, CASE, token);
    await ian.synced();
    const codes = closesOf(ian);
    const ianAuth = await ctx.identity.identity.service.authenticate(token);
    await cases.removeMember(ctx.admin, CASE_ID, ianAuth.user.id, { ip: '127.0.0.1' });
    await waitFor(() => codes.includes(CloseCode.forbidden), 'the refusal after removal', 8000);
    await waitFor(() => readCaseIndex(list.doc).length === 0, 'the case gone from his list');
    const audit = await ctx.identity.identity.audit.list();
    assert.ok(audit.some((r) => r.action === 'case.member_removed'));
  },
);

access('an expiring membership ends on time, on open connections too', async (ctx) => {
  await ivyOpensCase(ctx);
  const token = await ctx.identity.tokenFor('guest', 'gus@example.org');
  const expiresAt = new Date(Date.now() + 1500).toISOString();
  await ctx.identity.identity.cases.setMember(
    ctx.admin,
    CASE_ID,
    { email: 'gus@example.org', level: 'view', expiresAt },
    { ip: '127.0.0.1' },
  );
  const gus = peer(ctx, CASE, token);
  await waitFor(() => readMeta(gus.doc).title === 'Arson', 'the shared case');
  const codes = closesOf(gus);
  await waitFor(() => codes.includes(CloseCode.forbidden), 'the end of the membership', 8000);
});

access('members cannot be managed by someone who does not manage the case', async (ctx) => {
  await ivyOpensCase(ctx);
  const token = await ctx.identity.tokenFor('investigator', 'ian@example.org');
  const ian = await ctx.identity.identity.service.authenticate(token);
  try {
    await ctx.identity.identity.cases.setMember(
      ian,
      CASE_ID,
      { email: 'ian@example.org', level: 'manage' },
      { ip: '127.0.0.1' },
    );
    assert.unreachable('a non-member granted himself access');
  } catch (err) {
    assert.match((err as Error).message, 'manager');
  }
});

access.run();
