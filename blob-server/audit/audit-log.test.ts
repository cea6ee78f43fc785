import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chainPayload } from '../../web/lib/shared/audit-chain.ts';
import { AUDIT_LAYOUT, AuditLog, auditKey, type AuditRecord } from './audit-log.ts';

interface Ctx {
  dir: string;
}

const test = suite<Ctx>('AuditLog', { dir: '' });

test.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'exhibit-audit-'));
});

test.after.each(async (ctx) => {
  await rm(ctx.dir, { recursive: true, force: true });
});

const open = (ctx: Ctx) => AuditLog.open(join(ctx.dir, 'audit'), { keyDir: join(ctx.dir, 'keys') });

/** A log of `count` entries, with a checkpoint after entry `checkpointAt` when given. */
async function written(ctx: Ctx, count: number, checkpointAt?: number): Promise<void> {
  const log = await open(ctx);
  for (let i = 0; i < count; i++) {
    await log.record({
      action: 'evidence.viewed',
      actor: { userId: `user-${i % 3}` },
      target: `case:c${i}`,
      details: { n: i },
    });
    if (i === checkpointAt) await log.checkpoint();
  }
  // Closing signs the head too; tests that want no final checkpoint remove it.
  await log.close();
}

/** The store as an attacker with file access sees it. */
async function tamper(ctx: Ctx, change: (entries: ReturnType<typeof sublevels>) => Promise<void>) {
  const db = new Level<string, unknown>(join(ctx.dir, 'audit'), { valueEncoding: 'json' });
  await db.open();
  try {
    await change(sublevels(db));
  } finally {
    await db.close();
  }
}

function sublevels(db: Level<string, unknown>) {
  return {
    entries: db.sublevel<string, AuditRecord>(AUDIT_LAYOUT.entries, { valueEncoding: 'json' }),
    checkpoints: db.sublevel<string, unknown>(AUDIT_LAYOUT.checkpoints, { valueEncoding: 'json' }),
  };
}

async function verification(ctx: Ctx) {
  const log = await open(ctx);
  try {
    return await log.verify();
  } finally {
    await log.close().catch(() => undefined);
  }
}

const rehash = (entry: AuditRecord): AuditRecord => ({
  ...entry,
  hash: createHash('sha256').update(chainPayload(entry)).digest('hex'),
});

test('chains entries and verifies an untouched log', async (ctx) => {
  await written(ctx, 50, 20);
  const log = await open(ctx);
  const entries = await log.list();
  assert.is(entries.length, 50);
  assert.is(entries[0]?.prevHash, '0'.repeat(64));
  for (let i = 1; i < entries.length; i++) {
    assert.is(entries[i]?.prevHash, entries[i - 1]?.hash);
    assert.is(entries[i]?.seq, i);
  }
  const checkpoints = await log.listCheckpoints();
  assert.equal(
    checkpoints.map((c) => c.seq),
    [20, 49],
  );
  assert.equal(await log.verify(), { ok: true, entries: 50, checkpoints: 2 });
  await log.close();
});

test('continues the chain after a restart', async (ctx) => {
  await written(ctx, 5);
  await written(ctx, 5);
  const result = await verification(ctx);
  assert.equal(result, { ok: true, entries: 10, checkpoints: 2 });
});

test('catches an entry edited in the store, and names it', async (ctx) => {
  await written(ctx, 30, 10);
  await tamper(ctx, async ({ entries }) => {
    const entry = await entries.get(auditKey(17));
    await entries.put(auditKey(17), { ...entry!, actor: { userId: 'someone-else' } });
  });
  const result = await verification(ctx);
  assert.is(result.ok, false);
  assert.is(result.problem?.seq, 17);
  assert.match(result.problem!.reason, /entry 17 was changed/);
});

test('catches a deleted entry', async (ctx) => {
  await written(ctx, 30, 10);
  await tamper(ctx, async ({ entries }) => entries.del(auditKey(12)));
  const result = await verification(ctx);
  assert.is(result.problem?.seq, 12);
  assert.match(result.problem!.reason, /entry 12 is missing/);
});

test('catches reordered entries', async (ctx) => {
  await written(ctx, 30, 10);
  await tamper(ctx, async ({ entries }) => {
    const a = await entries.get(auditKey(14));
    const b = await entries.get(auditKey(15));
    await entries.put(auditKey(14), b!);
    await entries.put(auditKey(15), a!);
  });
  const result = await verification(ctx);
  assert.is(result.problem?.seq, 14);
  assert.match(result.problem!.reason, /out of place/);
});

test('catches reordering that renumbers and rehashes the entries it moves', async (ctx) => {
  await written(ctx, 30, 10);
  await tamper(ctx, async ({ entries }) => {
    const a = (await entries.get(auditKey(14)))!;
    const b = (await entries.get(auditKey(15)))!;
    const first = rehash({ ...b, seq: 14, prevHash: a.prevHash });
    const second = rehash({ ...a, seq: 15, prevHash: first.hash });
    await entries.put(auditKey(14), first);
    await entries.put(auditKey(15), second);
  });
  const result = await verification(ctx);
  // Entry 16 still points at the old 15.
  assert.is(result.problem?.seq, 16);
  assert.match(result.problem!.reason, /does not link/);
});

test('catches a whole chain rewritten consistently, by its signed checkpoints', async (ctx) => {
  await written(ctx, 30, 10);
  await tamper(ctx, async ({ entries }) => {
    let prevHash = '0'.repeat(64);
    for (let seq = 0; seq < 30; seq++) {
      const entry = (await entries.get(auditKey(seq)))!;
      const changed = seq === 4 ? { ...entry, action: 'evidence.downloaded' } : entry;
      const rewritten = rehash({ ...changed, prevHash });
      await entries.put(auditKey(seq), rewritten);
      prevHash = rewritten.hash;
    }
  });
  const result = await verification(ctx);
  assert.is(result.ok, false);
  // The edit is somewhere up to the first checkpoint: that range is named.
  assert.is(result.problem?.seq, 0);
  assert.match(result.problem!.reason, /entries 0 to 10 were rewritten/);
});

test('catches a forged checkpoint and a chain cut short below a checkpoint', async (ctx) => {
  await written(ctx, 30, 10);
  await tamper(ctx, async ({ entries, checkpoints }) => {
    const checkpoint = (await checkpoints.get(auditKey(10))) as { signature: string };
    await checkpoints.put(auditKey(10), { ...checkpoint, time: '2020-01-01T00:00:00.000Z' });
    for (let seq = 25; seq < 30; seq++) await entries.del(auditKey(seq));
  });
  const result = await verification(ctx);
  assert.is(result.problem?.seq, 10);
  assert.match(result.problem!.reason, /not signed by this server's key/);

  await tamper(ctx, async ({ checkpoints }) => checkpoints.del(auditKey(10)));
  const cut = await verification(ctx);
  assert.is(cut.problem?.seq, 25);
  assert.match(cut.problem!.reason, /entries from 25 on are missing/);
});

test.run();

const about = suite<Ctx>('AuditLog.about and prove', { dir: '' });
about.before.each(async (ctx) => {
  ctx.dir = await mkdtemp(join(tmpdir(), 'exhibit-audit-'));
});
about.after.each(async (ctx) => {
  await rm(ctx.dir, { recursive: true, force: true });
});

about(
  'finds entries by case, evidence item and file, also after an index was lost',
  async (ctx) => {
    const digest = 'b'.repeat(64);
    const log = await open(ctx);
    await log.record({
      action: 'evidence.stored',
      target: 'case:c1',
      details: { sha256: digest, evidenceId: 'ev-000001' },
    });
    await log.record({ action: 'evidence.played', target: `sha256:${digest}` });
    await log.record({ action: 'case.created', target: 'case:c2' });
    assert.equal(
      (await log.about(`sha256:${digest}`)).map((e) => e.seq),
      [0, 1],
    );
    assert.equal(
      (await log.about('evidence:ev-000001')).map((e) => e.action),
      ['evidence.stored'],
    );
    assert.equal(
      (await log.about('case:c1')).map((e) => e.seq),
      [0],
    );
    await log.close();
    // An index removed (an older data directory, a crash before the marker moved) is rebuilt.
    const db = new Level<string, unknown>(join(ctx.dir, 'audit'), { valueEncoding: 'json' });
    await db.sublevel(AUDIT_LAYOUT.subjects).clear();
    await db.sublevel(AUDIT_LAYOUT.meta).clear();
    await db.close();
    const reopened = await open(ctx);
    assert.equal(
      (await reopened.about(`sha256:${digest}`)).map((e) => e.seq),
      [0, 1],
    );
    await reopened.close();
  },
);

about(
  'proves entries sealed by a checkpoint and names a break between an entry and its seal',
  async (ctx) => {
    await written(ctx, 30, 19);
    const log = await open(ctx);
    await log.record({ action: 'evidence.viewed', target: 'case:late' });
    const proofs = await log.prove([3, 25, 30]);
    assert.is(proofs.get(3)?.intact, true);
    assert.is(proofs.get(3)?.sealedBy?.seq, 19);
    assert.is(proofs.get(3)?.sealedBy?.signatureValid, true);
    assert.is(proofs.get(25)?.sealedBy?.seq, 29);
    // Written after the last checkpoint: intact, not sealed yet.
    assert.is(proofs.get(30)?.intact, true);
    assert.is(proofs.get(30)?.sealedBy, undefined);
    await log.close();

    // Entry 10 rewritten with a consistent hash: 3 links to it no more than 10 links to 9.
    await tamper(ctx, async ({ entries }) => {
      const entry = await entries.get(auditKey(10));
      await entries.put(auditKey(10), rehash({ ...entry!, details: { n: 'rewritten' } }));
    });
    const after = await open(ctx);
    const broken = await after.prove([3, 12, 25]);
    assert.is(broken.get(3)?.intact, true);
    assert.is(broken.get(3)?.sealedBy, undefined);
    assert.match(broken.get(3)?.problem ?? '', /entry 11 does not link/);
    assert.is(broken.get(12)?.intact, false);
    assert.is(broken.get(25)?.intact, true);
    assert.is(broken.get(25)?.sealedBy?.signatureValid, true);
    await after.close();
  },
);

about.run();
