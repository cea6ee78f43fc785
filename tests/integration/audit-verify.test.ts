import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Level } from 'level';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AUDIT_LAYOUT, AuditLog, auditKey } from '../../blob-server/audit/audit-log.ts';
import { createBlobServer } from '../../blob-server/server.ts';
import { createFsStore } from '../../blob-server/storage/fs-store.ts';
import type { Logger } from '../../sync-server/logger.ts';
import { testIdentity } from '../helpers/identity.ts';

const run = promisify(execFile);
const quiet = { info() {}, warn() {}, error() {} } as unknown as Logger;

/** Runs `npm run audit:verify`'s script on a DATA_DIR; resolves with its exit code and output. */
async function auditVerify(dataDir: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'blob-server/bin/audit-verify.ts'],
      { env: { ...process.env, DATA_DIR: dataDir } },
    );
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

const test = suite('audit:verify');

test('says an intact trail is intact, names the first bad entry, and refuses what it cannot check', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'exhibit-audit-cli-'));
  try {
    const missing = await auditVerify(dataDir);
    assert.is(missing.code, 2, missing.output);
    assert.match(missing.output, /no audit trail/);

    const log = await AuditLog.open(join(dataDir, 'audit'), { keyDir: join(dataDir, 'keys') });
    for (let i = 0; i < 20; i++) await log.record({ action: 'auth.login', target: `user:${i}` });
    await log.close();
    const intact = await auditVerify(dataDir);
    assert.is(intact.code, 0, intact.output);
    assert.match(intact.output, /audit trail intact: 20 entries, 1 signed checkpoints/);

    const db = new Level<string, unknown>(join(dataDir, 'audit'), { valueEncoding: 'json' });
    const entries = db.sublevel<string, { target: string }>(AUDIT_LAYOUT.entries, {
      valueEncoding: 'json',
    });
    const entry = await entries.get(auditKey(7));
    await entries.put(auditKey(7), { ...entry!, target: 'user:nobody' });
    await db.close();
    const broken = await auditVerify(dataDir);
    assert.is(broken.code, 1, broken.output);
    assert.match(broken.output, /DOES NOT VERIFY at entry 7: entry 7 was changed/);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('administrators check the trail of a running server and sign a checkpoint', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'exhibit-audit-api-'));
  const ids = await testIdentity();
  const server = await createBlobServer({
    store: await createFsStore(dir),
    maxUploadBytes: 1024,
    log: quiet,
    auth: { service: ids.identity.service, cases: ids.identity.cases, refreshTtlMs: 60_000 },
    audit: ids.identity.audit,
  });
  try {
    const base = `http://127.0.0.1:${server.port}/api/admin/audit`;
    const as = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });
    const signed = await fetch(`${base}/checkpoints`, { method: 'POST', ...as(ids.adminToken) });
    assert.is(signed.status, 201);
    const result = (await (await fetch(`${base}/verify`, as(ids.adminToken))).json()) as {
      ok: boolean;
      entries: number;
      checkpoints: number;
    };
    assert.is(result.ok, true);
    // Setting up the first administrator is in it already.
    assert.ok(result.entries >= 1, JSON.stringify(result));
    assert.ok(result.checkpoints >= 1, JSON.stringify(result));
    for (let i = 0; i < 5; i++) {
      await ids.identity.audit.record({ action: 'evidence.played', target: `sha256:${i}` });
    }
    type Page = { entries: { seq: number; action: string }[]; next?: number };
    const first = (await (
      await fetch(`${base}/entries?action=evidence&limit=3`, as(ids.adminToken))
    ).json()) as Page;
    assert.equal(
      first.entries.map((e) => e.action),
      ['evidence.played', 'evidence.played', 'evidence.played'],
    );
    assert.ok(first.entries[0]!.seq > first.entries[2]!.seq, 'newest first');
    const rest = (await (
      await fetch(
        `${base}/entries?action=evidence&limit=3&before=${first.next}`,
        as(ids.adminToken),
      )
    ).json()) as Page;
    assert.is(rest.entries.length, 2);
    assert.is(rest.next, undefined);
    const badDate = await fetch(`${base}/entries?from=yesterday`, as(ids.adminToken));
    assert.is(badDate.status, 400);
    assert.match(((await badDate.json()) as { message: string }).message, /"from" must be a date/);
    const csv = await fetch(`${base}/entries.csv?target=sha256:3`, as(ids.adminToken));
    assert.match(String(csv.headers.get('content-type')), /^text\/csv/);
    const lines = (await csv.text()).trim().split('\r\n');
    assert.is(lines.length, 2);
    assert.match(lines[1]!, /,evidence\.played,.*,sha256:3,/);
    const investigator = await ids.tokenFor('investigator');
    assert.is((await fetch(`${base}/verify`, as(investigator))).status, 403);
    assert.is((await fetch(`${base}/verify`)).status, 401);
  } finally {
    await server.close();
    await ids.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
