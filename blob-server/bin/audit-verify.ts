// `npm run audit:verify`: checks DATA_DIR's audit trail (every entry's hash and link, every
// signed checkpoint) and names the first entry that does not verify. Exit 0: intact; 1: it
// does not verify; 2: it could not be checked. With the server running, its database is locked:
// use the administrators' audit check (GET /api/admin/audit/verify) instead, or stop it first.
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AUDIT_CHECKPOINT_KEY, verifyAuditStore } from '../audit/audit-log.ts';
import { loadOrCreateKey } from '../identity/tokens.ts';
import { openLevel } from '../../sync-server/level.ts';

const dataDir = resolve(process.env['DATA_DIR'] ?? './data');
const location = join(dataDir, 'audit');
const keyDir = join(dataDir, 'keys');

try {
  await access(location);
} catch {
  fail(2, `no audit trail at ${location} (set DATA_DIR to the server's data directory)`);
}
try {
  await access(join(keyDir, AUDIT_CHECKPOINT_KEY.file));
} catch {
  fail(
    2,
    `the checkpoint key ${join(keyDir, AUDIT_CHECKPOINT_KEY.file)} is missing: checkpoints cannot be checked`,
  );
}

const started = performance.now();
const db = await openLevel<unknown>(location, 'audit', { valueEncoding: 'json' }).catch(
  (err: unknown) => fail(2, (err as Error).message),
);
try {
  const key = await loadOrCreateKey(keyDir, AUDIT_CHECKPOINT_KEY);
  const result = await verifyAuditStore(db, key.publicKey);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (result.ok) {
    console.log(
      `audit trail intact: ${result.entries} entries, ${result.checkpoints} signed checkpoints (${seconds} s)`,
    );
  } else {
    console.log(
      `AUDIT TRAIL DOES NOT VERIFY at entry ${result.problem?.seq}: ${result.problem?.reason}\n` +
        `${result.entries} entries before it verified; ${result.checkpoints} checkpoints (${seconds} s)`,
    );
    process.exitCode = 1;
  }
} finally {
  await db.close();
}

function fail(code: number, message: string): never {
  console.error(`audit:verify: ${message}`);
  process.exit(code);
}
