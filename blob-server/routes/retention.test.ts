import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as Y from 'yjs';
import { createBlobServer, type BlobServer } from '../server.ts';
import { createFsStore } from '../storage/fs-store.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { sha256Key } from '../storage/keys.ts';
import { testIdentity } from '../../tests/helpers/identity.ts';
import { apiCall } from '../../tests/helpers/http.ts';
import type { Logger } from '../../sync-server/logger.ts';
import {
  addEvidence,
  readCaseSummary,
  readEvidence,
  readLegalHold,
} from '../../web/lib/shared/case-doc.ts';
import { encodeDocName } from '../../web/lib/shared/doc-names.ts';

const quiet: Logger = { info() {}, warn() {}, error() {} };
const CASE_ID = 'case-retention-0001';
const OTHER_CASE = 'case-retention-0002';
const DAY = 86_400_000;
const ADDED_AT = '2026-01-01T00:00:00.000Z';

interface Ctx {
  dir: string;
  store: BlobStore;
  ids: Awaited<ReturnType<typeof testIdentity>>;
  server: BlobServer;
  base: string;
  /** The server's clock, moved by the tests. */
  clock: { now: number };
  docs: Map<string, Y.Doc>;
  /** Tokens: the case's manager, a contributor and a viewer, and another case's manager. */
  manager: string;
  contributor: string;
  viewer: string;
  stranger: string;
}

type Reply = Awaited<ReturnType<typeof apiCall>>;

const call = (ctx: Ctx, method: string, path: string, token: string, body?: unknown) =>
  apiCall(ctx.base, method, path, token, body);

async function start(ctx: Ctx): Promise<void> {
  ctx.dir = await mkdtemp(join(tmpdir(), 'exhibit-retention-'));
  ctx.store = await createFsStore(join(ctx.dir, 'blobs'));
  ctx.ids = await testIdentity();
  ctx.clock = { now: Date.parse('2026-06-01T00:00:00.000Z') };
  ctx.docs = new Map();
  ctx.server = await createBlobServer({
    store: ctx.store,
    maxUploadBytes: 1 << 20,
    log: quiet,
    audit: ctx.ids.identity.audit,
    auth: {
      service: ctx.ids.identity.service,
      cases: ctx.ids.identity.cases,
      refreshTtlMs: 3600_000,
    },
    retention: {
      defaultRetentionDays: null,
      recycleBinDays: 30,
      sweepIntervalMs: 3600_000,
      now: () => new Date(ctx.clock.now),
    },
    caseDocuments: {
      async change(name, edit) {
        const doc = ctx.docs.get(name) ?? new Y.Doc();
        ctx.docs.set(name, doc);
        edit(doc);
      },
    },
  });
  ctx.base = `http://127.0.0.1:${ctx.server.port}`;
  const { service, cases } = ctx.ids.identity;
  ctx.manager = await ctx.ids.tokenFor('investigator', 'manager@example.org');
  ctx.contributor = await ctx.ids.tokenFor('investigator', 'contributor@example.org');
  ctx.viewer = await ctx.ids.tokenFor('investigator', 'viewer@example.org');
  ctx.stranger = await ctx.ids.tokenFor('investigator', 'stranger@example.org');
  const manager = await service.authenticate(ctx.manager);
  await cases.admit(manager.user, CASE_ID);
  await cases.admit((await service.authenticate(ctx.stranger)).user, OTHER_CASE);
  for (const [email, level] of [
    ['contributor@example.org', 'contribute'],
    ['viewer@example.org', 'view'],
  ] as const) {
    await cases.setMember(manager, CASE_ID, { email, level }, { ip: '127.0.0.1' });
  }
}

async function stop(ctx: Ctx): Promise<void> {
  await ctx.server.close();
  await ctx.ids.close();
  await ctx.store.close();
  await rm(ctx.dir, { recursive: true, force: true });
}

/** A stored file in a case, as a verified upload leaves it; resolves with its digest. */
async function evidenceIn(
  ctx: Ctx,
  caseId: string,
  evidenceId: string,
  bytes: Buffer = randomBytes(64),
): Promise<string> {
  const digest = createHash('sha256').update(bytes).digest('hex');
  const stored = await fetch(`${ctx.base}/api/blobs/${digest}?case=${caseId}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${ctx.ids.adminToken}` },
    body: new Uint8Array(bytes),
  });
  assert.ok(stored.status === 201 || stored.status === 200, `stored: ${stored.status}`);
  await ctx.ids.identity.cases.addEvidence(caseId, digest, { evidenceId, addedAt: ADDED_AT });
  const name = encodeDocName({ kind: 'case', id: caseId });
  const doc = ctx.docs.get(name) ?? new Y.Doc();
  ctx.docs.set(name, doc);
  addEvidence(doc, {
    id: evidenceId,
    name: `${evidenceId}.jpg`,
    type: 'image/jpeg',
    size: bytes.length,
    sha256: digest,
    serverSha256: digest,
    addedAt: ADDED_AT,
    state: 'verified',
  });
  return digest;
}

function caseDoc(ctx: Ctx, caseId = CASE_ID): Y.Doc {
  const doc = ctx.docs.get(encodeDocName({ kind: 'case', id: caseId }));
  if (!doc) throw new Error('no case document');
  return doc;
}

async function category(ctx: Ctx, name: string, retentionDays: number | null): Promise<string> {
  const made = await call(ctx, 'POST', '/api/admin/categories', ctx.ids.adminToken, {
    name,
    retentionDays,
  });
  assert.is(made.status, 201, JSON.stringify(made.body));
  return String(made.body['id']);
}

async function download(ctx: Ctx, digest: string, token: string): Promise<number> {
  const res = await fetch(`${ctx.base}/api/blobs/${digest}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  await res.arrayBuffer();
  return res.status;
}

async function audited(ctx: Ctx, action: string) {
  const { entries } = await ctx.ids.identity.audit.search({ action }, { limit: 10 });
  return entries;
}

// --- categories --------------------------------------------------------------------------

const categories = suite<Ctx>('evidence categories API', {} as Ctx);
categories.before.each(start);
categories.after.each(stop);

categories(
  'administrators create, change and delete categories; everyone reads them',
  async (ctx) => {
    const id = await category(ctx, 'Traffic stop', 90);
    const listed = await call(ctx, 'GET', '/api/admin/categories', ctx.viewer);
    assert.is(listed.status, 200);
    assert.equal(listed.body['defaultRetentionDays'], null);
    assert.is(listed.body['recycleBinDays'], 30);
    const [first] = listed.body['categories'] as Array<Record<string, unknown>>;
    assert.is(first?.['name'], 'Traffic stop');
    assert.is(first?.['retentionDays'], 90);

    const changed = await call(ctx, 'PUT', `/api/admin/categories/${id}`, ctx.ids.adminToken, {
      name: 'Homicide',
      retentionDays: null,
    });
    assert.is(changed.status, 200);
    assert.is(changed.body['retentionDays'], null);
    assert.is(
      (await call(ctx, 'DELETE', `/api/admin/categories/${id}`, ctx.ids.adminToken)).status,
      204,
    );
    assert.equal(
      (await call(ctx, 'GET', '/api/admin/categories', ctx.viewer)).body['categories'],
      [],
    );
    for (const action of ['category.created', 'category.changed', 'category.deleted']) {
      const [entry] = await audited(ctx, action);
      assert.is(entry?.target, `category:${id}`, action);
    }
    assert.is((await audited(ctx, 'category.changed'))[0]?.details?.['previousRetentionDays'], 90);
  },
);

categories('refuses bad input and callers who are not administrators', async (ctx) => {
  const admin = ctx.ids.adminToken;
  const refusals: Array<[Reply, number, RegExp]> = [
    [
      await call(ctx, 'POST', '/api/admin/categories', admin, { name: '', retentionDays: 1 }),
      400,
      /needs a name/,
    ],
    [
      await call(ctx, 'POST', '/api/admin/categories', admin, { name: 'X', retentionDays: -1 }),
      400,
      /cannot be negative/,
    ],
    [
      await call(ctx, 'POST', '/api/admin/categories', admin, { name: 'X', retentionDays: 40_000 }),
      400,
      /at most 36500/,
    ],
    [
      await call(ctx, 'POST', '/api/admin/categories', admin, { name: 'X', retentionDays: '5' }),
      400,
      /number of days/,
    ],
    [await call(ctx, 'POST', '/api/admin/categories', admin, { name: 'X' }), 400, /retentionDays/],
    [
      await call(ctx, 'PUT', '/api/admin/categories/nope', admin, { name: 'X', retentionDays: 1 }),
      404,
      /no such evidence category/,
    ],
    [
      await call(ctx, 'DELETE', '/api/admin/categories/bad%20id', admin),
      400,
      /must name a category/,
    ],
    [
      await call(ctx, 'POST', '/api/admin/categories', ctx.manager, {
        name: 'Mine',
        retentionDays: 1,
      }),
      403,
      /only administrators/,
    ],
  ];
  for (const [reply, status, message] of refusals) {
    assert.is(reply.status, status, JSON.stringify(reply.body));
    assert.match(String(reply.body['message']), message);
  }
  await category(ctx, 'Traffic stop', 90);
  const twice = await call(ctx, 'POST', '/api/admin/categories', admin, {
    name: 'traffic STOP',
    retentionDays: 1,
  });
  assert.is(twice.status, 409);
  assert.match(String(twice.body['message']), /already a category named "Traffic stop"/);
});

categories('a category in use cannot be deleted', async (ctx) => {
  const id = await category(ctx, 'Burglary', 365);
  await evidenceIn(ctx, CASE_ID, 'e1');
  const set = await call(
    ctx,
    'PUT',
    `/api/cases/${CASE_ID}/evidence/e1/category`,
    ctx.contributor,
    {
      categoryId: id,
    },
  );
  assert.is(set.status, 200, JSON.stringify(set.body));
  const refused = await call(ctx, 'DELETE', `/api/admin/categories/${id}`, ctx.ids.adminToken);
  assert.is(refused.status, 409);
  assert.match(String(refused.body['message']), /"Burglary" is in use by evidence/);
  await call(ctx, 'PUT', `/api/cases/${CASE_ID}/evidence/e1/category`, ctx.contributor, {
    categoryId: null,
  });
  assert.is(
    (await call(ctx, 'DELETE', `/api/admin/categories/${id}`, ctx.ids.adminToken)).status,
    204,
  );
});

categories.run();

// --- evidence: category, legal hold, recycle bin, purge -----------------------------------

const bin = suite<Ctx>('retention, legal hold and the recycle bin', {} as Ctx);
bin.before.each(start);
bin.after.each(stop);

bin('contributors set the category; viewers and other cases’ members are refused', async (ctx) => {
  const id = await category(ctx, 'Traffic stop', 90);
  const digest = await evidenceIn(ctx, CASE_ID, 'e1');
  const path = `/api/cases/${CASE_ID}/evidence/e1/category`;
  assert.is((await call(ctx, 'PUT', path, ctx.viewer, { categoryId: id })).status, 403);
  assert.is((await call(ctx, 'PUT', path, ctx.stranger, { categoryId: id })).status, 403);
  assert.is((await call(ctx, 'PUT', path, ctx.contributor, { categoryId: 'nope' })).status, 404);
  assert.is((await call(ctx, 'PUT', path, ctx.contributor, { category: id })).status, 400);
  const unknown = `/api/cases/${CASE_ID}/evidence/e9/category`;
  assert.is((await call(ctx, 'PUT', unknown, ctx.contributor, { categoryId: id })).status, 404);

  const set = await call(ctx, 'PUT', path, ctx.contributor, { categoryId: id });
  assert.is(set.status, 200);
  assert.is(set.body['retainUntil'], new Date(Date.parse(ADDED_AT) + 90 * DAY).toISOString());
  assert.is(readEvidence(caseDoc(ctx))[0]?.category, id, 'mirrored into the case document');
  const [entry] = await audited(ctx, 'evidence.category_changed');
  assert.equal(entry?.details, { evidenceId: 'e1', sha256: digest, category: 'Traffic stop' });
  const view = await call(ctx, 'GET', `/api/cases/${CASE_ID}/retention`, ctx.viewer);
  assert.is(view.status, 200);
  assert.is(view.body['level'], 'view');
  assert.is((view.body['items'] as Array<Record<string, unknown>>)[0]?.['categoryId'], id);
  assert.is((await call(ctx, 'GET', `/api/cases/${CASE_ID}/retention`, ctx.stranger)).status, 403);
});

bin('deleting within the retention is refused, naming until when', async (ctx) => {
  await evidenceIn(ctx, CASE_ID, 'e1');
  const path = `/api/cases/${CASE_ID}/evidence/e1`;
  const indefinite = await call(ctx, 'DELETE', path, ctx.manager, { reason: 'duplicate' });
  assert.is(indefinite.status, 409);
  assert.is(indefinite.body['error'], 'retention_not_elapsed');
  assert.match(String(indefinite.body['message']), /without a category must be kept indefinitely/);

  const id = await category(ctx, 'Two years', 730);
  await call(ctx, 'PUT', `${path}/category`, ctx.manager, { categoryId: id });
  const early = await call(ctx, 'DELETE', path, ctx.manager, { reason: 'duplicate' });
  assert.is(early.status, 409);
  assert.match(
    String(early.body['message']),
    /"Two years" must be kept until 2028-01-01T00:00:00.000Z/,
  );
  assert.is((await call(ctx, 'DELETE', path, ctx.manager, {})).status, 400, 'a reason is needed');
});

bin('a legal hold blocks deletion until its manager releases it', async (ctx) => {
  const id = await category(ctx, 'Short', 1);
  await evidenceIn(ctx, CASE_ID, 'e1');
  await call(ctx, 'PUT', `/api/cases/${CASE_ID}/evidence/e1/category`, ctx.manager, {
    categoryId: id,
  });
  const hold = `/api/cases/${CASE_ID}/legal-hold`;
  const reason = { reason: 'litigation notice 2026-114' };
  assert.is((await call(ctx, 'PUT', hold, ctx.contributor, reason)).status, 403);
  assert.is((await call(ctx, 'PUT', hold, ctx.stranger, reason)).status, 403);
  assert.is((await call(ctx, 'PUT', hold, ctx.manager, { reason: '' })).status, 400);
  assert.is((await call(ctx, 'PUT', hold, ctx.manager, reason)).status, 200);
  assert.is(readLegalHold(caseDoc(ctx))?.reason, 'litigation notice 2026-114');

  const refused = await call(ctx, 'DELETE', `/api/cases/${CASE_ID}/evidence/e1`, ctx.manager, {
    reason: 'no longer needed',
  });
  assert.is(refused.status, 423);
  assert.is(refused.body['error'], 'legal_hold');
  assert.match(String(refused.body['message']), /under legal hold .*"litigation notice 2026-114"/);

  assert.is((await call(ctx, 'DELETE', hold, ctx.viewer, { reason: 'done' })).status, 403);
  assert.is(
    (await call(ctx, 'DELETE', hold, ctx.ids.adminToken, { reason: 'case settled' })).status,
    204,
  );
  assert.is(readLegalHold(caseDoc(ctx)), undefined);
  assert.is((await call(ctx, 'DELETE', hold, ctx.manager, { reason: 'again' })).status, 404);
  const [released] = await audited(ctx, 'case.legal_hold_released');
  assert.is(released?.details?.['holdReason'], 'litigation notice 2026-114');
  assert.is((await audited(ctx, 'case.legal_hold_set'))[0]?.target, `case:${CASE_ID}`);
  const deleted = await call(ctx, 'DELETE', `/api/cases/${CASE_ID}/evidence/e1`, ctx.manager, {
    reason: 'no longer needed',
  });
  assert.is(deleted.status, 200, JSON.stringify(deleted.body));
});

bin(
  'deleted evidence waits in the recycle bin, downloadable only by administrators, until restored',
  async (ctx) => {
    const id = await category(ctx, 'Short', 1);
    const digest = await evidenceIn(ctx, CASE_ID, 'e1');
    await evidenceIn(ctx, CASE_ID, 'e2');
    const path = `/api/cases/${CASE_ID}/evidence/e1`;
    await call(ctx, 'PUT', `${path}/category`, ctx.manager, { categoryId: id });
    const byContributor = await call(ctx, 'DELETE', path, ctx.contributor, { reason: 'mistake' });
    assert.is(byContributor.status, 403);
    assert.match(String(byContributor.body['message']), /only a manager/);

    const deleted = await call(ctx, 'DELETE', path, ctx.manager, { reason: 'uploaded twice' });
    assert.is(deleted.status, 200);
    const record = readEvidence(caseDoc(ctx)).find((e) => e.id === 'e1');
    assert.is(record?.deleteReason, 'uploaded twice');
    assert.is(record?.purgeAt, new Date(ctx.clock.now + 30 * DAY).toISOString());
    assert.is(readCaseSummary(caseDoc(ctx)).evidenceCount, 1, 'the bin does not count as evidence');
    assert.is((await call(ctx, 'DELETE', path, ctx.manager, { reason: 'again' })).status, 409);

    assert.is(await download(ctx, digest, ctx.viewer), 403);
    assert.is(await download(ctx, digest, ctx.manager), 403);
    assert.is(await download(ctx, digest, ctx.ids.adminToken), 200);
    const [entry] = await audited(ctx, 'evidence.deleted');
    assert.is(entry?.details?.['sha256'], digest);
    assert.is(entry?.details?.['evidenceId'], 'e1');
    assert.is(entry?.target, `case:${CASE_ID}`);

    assert.is((await call(ctx, 'POST', `${path}/restore`, ctx.contributor)).status, 403);
    const restored = await call(ctx, 'POST', `${path}/restore`, ctx.manager);
    assert.is(restored.status, 200);
    assert.is(restored.body['deleted'], undefined);
    assert.is(readEvidence(caseDoc(ctx)).find((e) => e.id === 'e1')?.deletedAt, undefined);
    assert.is(await download(ctx, digest, ctx.viewer), 200);
    assert.is((await audited(ctx, 'evidence.restored'))[0]?.details?.['sha256'], digest);
    assert.is((await call(ctx, 'POST', `${path}/restore`, ctx.manager)).status, 409);
    ctx.clock.now += 31 * DAY;
    assert.equal(await ctx.server.retention.sweep(), { purged: 0, held: 0 }, 'restored stays');
    assert.is(await download(ctx, digest, ctx.viewer), 200);
  },
);

bin('the sweep purges due items, deleting the file only when no case holds it', async (ctx) => {
  const id = await category(ctx, 'Short', 0);
  const shared = randomBytes(64);
  const only = await evidenceIn(ctx, CASE_ID, 'e1');
  const both = await evidenceIn(ctx, CASE_ID, 'e2', shared);
  await evidenceIn(ctx, OTHER_CASE, 'x1', shared);
  for (const evidenceId of ['e1', 'e2']) {
    const path = `/api/cases/${CASE_ID}/evidence/${evidenceId}`;
    await call(ctx, 'PUT', `${path}/category`, ctx.manager, { categoryId: id });
    assert.is((await call(ctx, 'DELETE', path, ctx.manager, { reason: 'cleanup' })).status, 200);
  }
  assert.equal(await ctx.server.retention.sweep(), { purged: 0, held: 0 }, 'nothing due yet');

  await call(ctx, 'PUT', `/api/cases/${CASE_ID}/legal-hold`, ctx.manager, { reason: 'subpoena' });
  ctx.clock.now += 31 * DAY;
  assert.equal(await ctx.server.retention.sweep(), { purged: 0, held: 2 }, 'the hold stops it');
  assert.ok(await ctx.store.stat(sha256Key(only)));

  await call(ctx, 'DELETE', `/api/cases/${CASE_ID}/legal-hold`, ctx.manager, { reason: 'over' });
  assert.equal(await ctx.server.retention.sweep(), { purged: 2, held: 0 });
  assert.is(await ctx.store.stat(sha256Key(only)), null, 'the unshared file is gone');
  assert.ok(await ctx.store.stat(sha256Key(both)), 'the other case still holds the shared one');
  assert.is(await download(ctx, both, ctx.stranger), 200);
  assert.is(await download(ctx, both, ctx.manager), 403, 'the purged case no longer lists it');
  assert.is(readEvidence(caseDoc(ctx)).length, 0, 'the records left the case document');
  const retention = await call(ctx, 'GET', `/api/cases/${CASE_ID}/retention`, ctx.manager);
  assert.equal(retention.body['items'], []);

  const purged = await audited(ctx, 'evidence.purged');
  assert.is(purged.length, 2);
  const first = purged.find((e) => e.details?.['evidenceId'] === 'e1');
  assert.equal(
    [first?.target, first?.details?.['sha256'], first?.details?.['objectDeleted']],
    [`case:${CASE_ID}`, only, true],
  );
  assert.is(
    purged.find((e) => e.details?.['evidenceId'] === 'e2')?.details?.['objectDeleted'],
    false,
  );

  // A device's stale copy of the case document still listing the file does not bring it back.
  await ctx.ids.identity.cases.recordEvidence(CASE_ID, [only, both]);
  assert.is(await download(ctx, both, ctx.manager), 403);
  const restore = await call(ctx, 'POST', `/api/cases/${CASE_ID}/evidence/e1/restore`, ctx.manager);
  assert.is(restore.status, 404);
  assert.match(String(restore.body['message']), /purged/);
});

bin('a purge interrupted after the file was deleted completes at the next sweep', async (ctx) => {
  const id = await category(ctx, 'Short', 0);
  const digest = await evidenceIn(ctx, CASE_ID, 'e1');
  const path = `/api/cases/${CASE_ID}/evidence/e1`;
  await call(ctx, 'PUT', `${path}/category`, ctx.manager, { categoryId: id });
  await call(ctx, 'DELETE', path, ctx.manager, { reason: 'cleanup' });
  // What a crash between deleting the object and recording the purge leaves behind.
  await ctx.store.delete(sha256Key(digest));
  ctx.clock.now += 31 * DAY;
  assert.equal(await ctx.server.retention.sweep(), { purged: 1, held: 0 });
  assert.equal(await ctx.server.retention.sweep(), { purged: 0, held: 0 });
  assert.equal(await ctx.ids.identity.cases.records.casesWithEvidence(digest), []);
});

bin('a retention lengthened while evidence is in the bin stops its purge', async (ctx) => {
  const id = await category(ctx, 'Changing', 0);
  await evidenceIn(ctx, CASE_ID, 'e1');
  const path = `/api/cases/${CASE_ID}/evidence/e1`;
  await call(ctx, 'PUT', `${path}/category`, ctx.manager, { categoryId: id });
  await call(ctx, 'DELETE', path, ctx.manager, { reason: 'cleanup' });
  await call(ctx, 'PUT', `/api/admin/categories/${id}`, ctx.ids.adminToken, {
    name: 'Changing',
    retentionDays: null,
  });
  ctx.clock.now += 31 * DAY;
  assert.equal(await ctx.server.retention.sweep(), { purged: 0, held: 1 });
});

bin(
  'evidence stored before the server kept items is adopted, its retention counted from then',
  async (ctx) => {
    const digest = await evidenceIn(ctx, CASE_ID, 'e1');
    // What an earlier version left: the document's record and the case's link, but no item.
    const { cases } = ctx.ids.identity;
    await cases.records.setEvidence(CASE_ID, []);
    await cases.recordEvidence(CASE_ID, [digest]);
    addEvidence(caseDoc(ctx), {
      id: 'legacy',
      name: 'old.jpg',
      type: 'image/jpeg',
      size: 1,
      sha256: digest,
      serverSha256: digest,
      verifiedAt: '2020-01-01T00:00:00.000Z',
      addedAt: '2020-01-01T00:00:00.000Z',
      state: 'verified',
    });
    const view = await call(ctx, 'GET', `/api/cases/${CASE_ID}/retention`, ctx.viewer);
    const items = view.body['items'] as Array<Record<string, unknown>>;
    const legacy = items.find((i) => i['evidenceId'] === 'legacy');
    assert.is(legacy?.['sha256'], digest);
    assert.is(legacy?.['addedAt'], new Date(ctx.clock.now).toISOString(), 'not the client’s date');
    assert.is(
      (
        await call(ctx, 'PUT', `/api/cases/${CASE_ID}/evidence/legacy/category`, ctx.contributor, {
          categoryId: null,
        })
      ).status,
      200,
    );
  },
);

bin.run();
