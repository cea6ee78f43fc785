import { join } from 'node:path';
import { Level } from 'level';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openIdentity, type Identity } from '../identity/index.ts';
import { AUDIT_LAYOUT, auditKey, type AuditRecord } from '../audit/audit-log.ts';
import type { Authenticated } from '../identity/auth-service.ts';
import { testIdentity } from '../../tests/helpers/identity.ts';
import { testDevice, type TestDevice } from '../../tests/helpers/device.ts';
import { DeviceLogGap } from '../errors.ts';
import { failure } from '../../tests/helpers/async.ts';

async function refused(work: () => Promise<unknown>, pattern?: RegExp): Promise<void> {
  const err = await failure(work());
  if (pattern) assert.match(err.message, pattern);
}

const CASE_ID = 'case-0011223344';
const OTHER_CASE = 'case-9988776655';
const SHA = 'a'.repeat(64);
const ctxOf = { ip: '192.0.2.7', userAgent: 'test' };

interface Ctx {
  env: Awaited<ReturnType<typeof testIdentity>>;
  identity: Identity;
  ivy: Authenticated;
  ana: Authenticated;
  device: TestDevice;
}

async function setUp(ctx: Ctx): Promise<void> {
  ctx.env = await testIdentity();
  ctx.identity = ctx.env.identity;
  const service = ctx.identity.service;
  ctx.ivy = await service.authenticate(await ctx.env.tokenFor('investigator', 'ivy@example.org'));
  ctx.ana = await service.authenticate(await ctx.env.tokenFor('investigator', 'ana@example.org'));
  await ctx.identity.cases.admit(ctx.ivy.user, CASE_ID);
  await ctx.identity.cases.admit(ctx.ana.user, OTHER_CASE);
  ctx.device = await testDevice();
}

function added(ctx: Ctx, evidence = 'evidence-01', sha256 = SHA) {
  return ctx.device.next({
    user: ctx.ivy.user.id,
    action: 'evidence.added',
    case: CASE_ID,
    evidence,
    details: { sha256, size: 1234, name: 'clip.mp4', type: 'video/mp4', source: 'file' },
  });
}

const registry = suite<Ctx>('DeviceCustody.register', {} as Ctx);
registry.before.each(setUp);
registry.after.each((ctx) => ctx.env.close());

registry('registers a key the device proves it holds, once, for its user', async (ctx) => {
  const devices = ctx.identity.custody.devices;
  const view = await devices.register(
    ctx.ivy,
    await ctx.device.registration(ctx.ivy.user.id),
    ctxOf,
  );
  assert.is(view.id, ctx.device.id);
  assert.is(view.entries, 0);
  const again = await devices.register(
    ctx.ivy,
    await ctx.device.registration(ctx.ivy.user.id),
    ctxOf,
  );
  assert.is(again.id, view.id);
  assert.equal(
    (await devices.list(ctx.ivy)).map((d) => d.id),
    [ctx.device.id],
  );
  assert.equal(await devices.list(ctx.ana), []);
  const [logged] = (await ctx.identity.audit.search({ action: 'device.registered' }, { limit: 5 }))
    .entries;
  assert.is(logged?.target, `device:${ctx.device.id}`);
});

registry('refuses a registration signed by another key, or for another user', async (ctx) => {
  const devices = ctx.identity.custody.devices;
  const stranger = await testDevice();
  const forged = {
    ...(await ctx.device.registration(ctx.ivy.user.id)),
    proof: (await stranger.registration(ctx.ivy.user.id)).proof,
  };
  await refused(() => devices.register(ctx.ivy, forged, ctxOf), /not signed by the key/);
  // Signed for Ivy, presented by Ana: the proof names the user, so it does not verify.
  await refused(() => devices.register(ctx.ana, forged, ctxOf), /not signed by the key/);
  await devices.register(ctx.ivy, await ctx.device.registration(ctx.ivy.user.id), ctxOf);
  const forAna = await ctx.device.registration(ctx.ana.user.id);
  await refused(() => devices.register(ctx.ana, forAna, ctxOf), /registered to another account/);
});

registry('a revoked device cannot register again or send entries', async (ctx) => {
  const devices = ctx.identity.custody.devices;
  await devices.register(ctx.ivy, await ctx.device.registration(ctx.ivy.user.id), ctxOf);
  await refused(() => devices.revoke(ctx.ana, ctx.device.id, ctxOf), /no such device/);
  const revoked = await devices.revoke(ctx.ivy, ctx.device.id, ctxOf);
  assert.ok(revoked.revokedAt);
  await refused(
    async () => devices.register(ctx.ivy, await ctx.device.registration(ctx.ivy.user.id), ctxOf),
    /revoked/,
  );
  await refused(
    async () => devices.merge(ctx.ivy, ctx.device.id, [await added(ctx)], ctxOf),
    /revoked/,
  );
});

registry.run();

const merge = suite<Ctx>('DeviceCustody.merge', {} as Ctx);
merge.before.each(async (ctx) => {
  await setUp(ctx);
  await ctx.identity.custody.devices.register(
    ctx.ivy,
    await ctx.device.registration(ctx.ivy.user.id),
    ctxOf,
  );
});
merge.after.each((ctx) => ctx.env.close());

merge('appends entries in order, with the device time and the whole signed entry', async (ctx) => {
  const devices = ctx.identity.custody.devices;
  const first = await added(ctx);
  const second = await ctx.device.next({
    user: ctx.ivy.user.id,
    action: 'evidence.viewed',
    case: CASE_ID,
    evidence: 'evidence-01',
    details: { sha256: SHA, from: 'device' },
  });
  assert.equal(await devices.merge(ctx.ivy, ctx.device.id, [first, second], ctxOf), {
    accepted: 2,
    next: 2,
  });
  const about = await ctx.identity.audit.about('evidence:evidence-01');
  assert.equal(
    about.map((e) => e.action),
    ['evidence.added', 'evidence.viewed'],
  );
  assert.is(about[0]?.target, `case:${CASE_ID}`);
  assert.is(about[0]?.details?.['sha256'], SHA);
  assert.equal(about[0]?.details?.['deviceEntry'], first);
  assert.is(about[0]?.ip, ctxOf.ip);
  // Sent again (the answer was lost): nothing is appended twice.
  assert.equal(await devices.merge(ctx.ivy, ctx.device.id, [first, second], ctxOf), {
    accepted: 0,
    next: 2,
  });
  assert.is((await ctx.identity.audit.about('evidence:evidence-01')).length, 2);
  assert.is((await devices.list(ctx.ivy))[0]?.entries, 2);
});

merge('refuses a gap, naming the entry it expects', async (ctx) => {
  await added(ctx);
  const later = await added(ctx, 'evidence-02');
  const err = await ctx.identity.custody.devices.merge(ctx.ivy, ctx.device.id, [later], ctxOf).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.instance(err, DeviceLogGap);
  assert.is((err as DeviceLogGap).expected, 0);
});

merge('stops at an entry that was altered, relinked or signed by another key', async (ctx) => {
  const devices = ctx.identity.custody.devices;
  const good = await added(ctx);
  const altered = { ...(await added(ctx, 'evidence-02')), details: { ...good.details, size: 1 } };
  await refused(
    () => devices.merge(ctx.ivy, ctx.device.id, [good, altered], ctxOf),
    /entry 1 does not hash to the hash it carries; 1 entry was accepted before it/,
  );
  const stranger = await testDevice();
  const foreign = await stranger.next({
    user: ctx.ivy.user.id,
    action: 'case.changed',
    case: CASE_ID,
    details: { fields: ['title'] },
  });
  const resigned = { ...foreign, device: ctx.device.id, seq: 1, prev: good.hash };
  await refused(
    () => devices.merge(ctx.ivy, ctx.device.id, [resigned], ctxOf),
    /entry 1 does not hash|not signed by this device/,
  );
  const relinked = { ...(await added(ctx, 'evidence-03')), seq: 1, prev: 'f'.repeat(64) };
  await refused(() => devices.merge(ctx.ivy, ctx.device.id, [relinked], ctxOf), /does not link/);
  assert.equal(
    (await ctx.identity.audit.about('evidence:evidence-02')).map((e) => e.seq),
    [],
  );
  assert.is((await devices.list(ctx.ivy))[0]?.entries, 1);
});

merge('only its owner may send a device log', async (ctx) => {
  const entry = await added(ctx);
  await refused(
    () => ctx.identity.custody.devices.merge(ctx.ana, ctx.device.id, [entry], ctxOf),
    /not registered to your account/,
  );
});

merge('files an entry about a case its user cannot work on under the device alone', async (ctx) => {
  const entry = await ctx.device.next({
    user: ctx.ivy.user.id,
    action: 'evidence.added',
    case: OTHER_CASE,
    evidence: 'evidence-99',
    details: { sha256: SHA, size: 1, name: 'x', type: 'text/plain', source: 'file' },
  });
  await ctx.identity.custody.devices.merge(ctx.ivy, ctx.device.id, [entry], ctxOf);
  assert.equal(await ctx.identity.audit.about('evidence:evidence-99'), []);
  assert.equal(
    await ctx.identity.audit
      .about(`case:${OTHER_CASE}`)
      .then((e) => e.filter((x) => x.action === 'evidence.added')),
    [],
  );
  const kept = (await ctx.identity.audit.about(`device:${ctx.device.id}`)).find(
    (e) => e.action === 'evidence.added',
  );
  assert.match(String(kept?.details?.['access']), /no access/);
});

merge.run();

const report = suite<Ctx>('CustodyReports.report', {} as Ctx);
report.before.each(async (ctx) => {
  await setUp(ctx);
  const devices = ctx.identity.custody.devices;
  await devices.register(ctx.ivy, await ctx.device.registration(ctx.ivy.user.id), ctxOf);
  await devices.merge(ctx.ivy, ctx.device.id, [await added(ctx)], ctxOf);
  const audit = ctx.identity.audit;
  await audit.record({
    action: 'evidence.upload_started',
    actor: { userId: ctx.ivy.user.id },
    target: `case:${CASE_ID}`,
    details: { upload: 'u1', length: 1234, filename: 'clip.mp4', evidenceId: 'evidence-01' },
  });
  await audit.record({
    action: 'evidence.stored',
    actor: { userId: ctx.ivy.user.id },
    target: `case:${CASE_ID}`,
    details: {
      sha256: SHA,
      clientSha256: SHA,
      size: 1234,
      filename: 'clip.mp4',
      evidenceId: 'evidence-01',
    },
  });
  await audit.record({
    action: 'evidence.played',
    actor: { userId: ctx.ana.user.id },
    target: `sha256:${SHA}`,
    details: { size: 1234 },
  });
  // Another case's events about the same file stay out of this case's report.
  await audit.record({
    action: 'evidence.stored',
    actor: { userId: ctx.ana.user.id },
    target: `case:${OTHER_CASE}`,
    details: { sha256: SHA, evidenceId: 'evidence-77' },
  });
});
report.after.each((ctx) => ctx.env.close());

report(
  'tells the whole custody from the device to the last access, every check passing',
  async (ctx) => {
    await ctx.identity.audit.checkpoint();
    const r = await ctx.identity.custody.reports.report(ctx.ivy, CASE_ID, 'evidence-01');
    assert.equal(
      r.events.map((e) => e.action),
      ['evidence.added', 'evidence.upload_started', 'evidence.stored', 'evidence.played'],
    );
    const [first] = r.events;
    assert.is(first?.device?.signature, 'valid');
    assert.ok(first?.deviceTime);
    assert.is(first?.details['name'], 'clip.mp4');
    assert.is(r.events[3]?.actor?.email, 'ana@example.org');
    assert.equal(r.evidence, {
      deviceSha256: SHA,
      name: 'clip.mp4',
      type: 'video/mp4',
      size: 1234,
      serverSha256: SHA,
      verifiedAt: r.events[2]!.serverTime,
    });
    for (const check of r.checks) assert.is(check.outcome, 'pass', `${check.id}: ${check.detail}`);
    assert.ok(r.events.every((e) => e.proof.intact && e.proof.sealedBy?.signatureValid));
  },
);

report('says when recent entries are not yet sealed', async (ctx) => {
  const r = await ctx.identity.custody.reports.report(ctx.ivy, CASE_ID, 'evidence-01');
  assert.is(r.checks.find((c) => c.id === 'sealed')?.outcome, 'pending');
  assert.is(r.checks.find((c) => c.id === 'chain-intact')?.outcome, 'pass');
});

report('is refused to someone without access to the case, and for an unknown item', async (ctx) => {
  await refused(
    () => ctx.identity.custody.reports.report(ctx.ana, CASE_ID, 'evidence-01'),
    /no access/,
  );
  await refused(
    () => ctx.identity.custody.reports.report(ctx.ivy, CASE_ID, 'evidence-55'),
    /nothing about this evidence/,
  );
});

report(
  'shows an entry edited in the store as failing, and the device signature too',
  async (ctx) => {
    await ctx.identity.audit.checkpoint();
    await ctx.identity.close();
    const db = new Level<string, unknown>(join(ctx.env.dir, 'audit'), { valueEncoding: 'json' });
    const entries = db.sublevel<string, AuditRecord>(AUDIT_LAYOUT.entries, {
      valueEncoding: 'json',
    });
    const found: AuditRecord[] = [];
    for await (const entry of entries.values()) found.push(entry);
    const added = found.find((e) => e.action === 'evidence.added')!;
    const deviceEntry = added.details!['deviceEntry'] as Record<string, unknown>;
    await entries.put(auditKey(added.seq), {
      ...added,
      details: {
        ...added.details,
        deviceEntry: {
          ...deviceEntry,
          details: { ...(deviceEntry['details'] as object), size: 99 },
        },
      },
    });
    await db.close();
    ctx.identity = await openIdentity({
      dataDir: ctx.env.dir,
      accessTokenTtlSeconds: 3600,
      sessionTtlMs: 3600_000,
    });
    ctx.env.identity = ctx.identity;
    const r = await ctx.identity.custody.reports.report(ctx.ivy, CASE_ID, 'evidence-01');
    assert.is(r.events[0]?.proof.intact, false);
    assert.is(r.events[0]?.device?.signature, 'invalid');
    assert.is(r.checks.find((c) => c.id === 'chain-intact')?.outcome, 'fail');
    assert.is(r.checks.find((c) => c.id === 'device-signatures')?.outcome, 'fail');
    assert.is(r.checks.find((c) => c.id === 'sealed')?.outcome, 'fail');
  },
);

report.run();
