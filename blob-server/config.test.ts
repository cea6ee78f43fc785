import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readBlobConfig } from './config.ts';
import { ConfigError } from '../sync-server/data-dir.ts';

const S3 = { S3_ENDPOINT: 'http://127.0.0.1:9000', S3_ACCESS_KEY: 'k', S3_SECRET_KEY: 's' };

function refusal(env: NodeJS.ProcessEnv): string {
  try {
    readBlobConfig({ DATA_DIR: '/tmp/exhibit-config-test', ...env });
  } catch (err) {
    assert.instance(err, ConfigError);
    return (err as Error).message;
  }
  assert.unreachable('the configuration should have been refused');
  return '';
}

test('upload and retention settings have working defaults', () => {
  const config = readBlobConfig({ DATA_DIR: '/tmp/exhibit-config-test' });
  assert.equal(config.uploads, {
    maxFileBytes: 5 * 1024 ** 4,
    expiryMs: 24 * 3_600_000,
    corsOrigins: [],
    retentionDays: 3650,
  });
  assert.equal(config.store, { kind: 'fs', dir: '/tmp/exhibit-config-test/blobs' });
});

test('Object Lock is passed to the S3 store in its mode', () => {
  const config = readBlobConfig({ DATA_DIR: '/tmp/x', ...S3, S3_OBJECT_LOCK: 'compliance' });
  assert.is(config.store.kind === 's3' && config.store.objectLock, 'COMPLIANCE');
  const origins = readBlobConfig({
    DATA_DIR: '/tmp/x',
    UPLOAD_CORS_ORIGINS: 'https://intranet.example.org, http://10.0.0.5:8080',
  }).uploads.corsOrigins;
  assert.equal(origins, ['https://intranet.example.org', 'http://10.0.0.5:8080']);
});

test('refuses bad upload and retention settings, naming the variable', () => {
  assert.match(
    refusal({ S3_OBJECT_LOCK: 'yes' }),
    /S3_OBJECT_LOCK="yes": must be off, governance or compliance/,
  );
  assert.match(refusal({ S3_OBJECT_LOCK: 'governance' }), /S3_OBJECT_LOCK needs S3 storage/);
  assert.match(
    refusal({ EVIDENCE_RETENTION_DAYS: '0' }),
    /EVIDENCE_RETENTION_DAYS="0": must be positive/,
  );
  assert.match(
    refusal({ UPLOAD_EXPIRY_HOURS: 'soon' }),
    /UPLOAD_EXPIRY_HOURS="soon": must be a number of hours/,
  );
  assert.match(refusal({ UPLOAD_CORS_ORIGINS: 'intranet' }), /"intranet" is not an origin/);
  assert.match(refusal({ MAX_FILE_BYTES: '-5' }), /MAX_FILE_BYTES="-5"/);
});

test('retention: uncategorised evidence is kept indefinitely and the bin holds 30 days by default', () => {
  assert.equal(readBlobConfig({ DATA_DIR: '/tmp/x' }).retention, {
    defaultRetentionDays: null,
    recycleBinDays: 30,
  });
  assert.equal(
    readBlobConfig({ DATA_DIR: '/tmp/x', DEFAULT_RETENTION_DAYS: '365', RECYCLE_BIN_DAYS: '0' })
      .retention,
    { defaultRetentionDays: 365, recycleBinDays: 0 },
  );
  assert.is(
    readBlobConfig({ DATA_DIR: '/tmp/x', DEFAULT_RETENTION_DAYS: 'indefinite' }).retention
      .defaultRetentionDays,
    null,
  );
});

test('refuses bad retention and recycle bin settings, naming the variable', () => {
  assert.match(
    refusal({ DEFAULT_RETENTION_DAYS: 'forever' }),
    /DEFAULT_RETENTION_DAYS="forever": must be a number of days \(0-36500\) or "indefinite"/,
  );
  assert.match(refusal({ DEFAULT_RETENTION_DAYS: '-1' }), /DEFAULT_RETENTION_DAYS="-1"/);
  assert.match(refusal({ RECYCLE_BIN_DAYS: '-3' }), /RECYCLE_BIN_DAYS="-3": must be 0 or more/);
  assert.match(refusal({ RECYCLE_BIN_DAYS: '1.5' }), /RECYCLE_BIN_DAYS="1.5": must be a whole/);
});

test('mail: off without SMTP_URL; with it, the sender and the base of links', () => {
  assert.is(readBlobConfig({ DATA_DIR: '/tmp/x' }).mail, undefined);
  assert.equal(readBlobConfig({ DATA_DIR: '/tmp/x', SMTP_URL: 'smtp://mail.example.org' }).mail, {
    smtpUrl: 'smtp://mail.example.org',
    from: 'Exhibit <exhibit@localhost>',
    publicUrl: 'http://localhost:8080',
  });
  const mail = readBlobConfig({
    DATA_DIR: '/tmp/x',
    SMTP_URL: 'smtps://user:pass@mail.example.org:465',
    MAIL_FROM: 'Evidence Desk <evidence@example.org>',
    PUBLIC_URL: 'https://exhibit.example.org',
  }).mail;
  assert.is(mail?.from, 'Evidence Desk <evidence@example.org>');
  assert.is(mail?.publicUrl, 'https://exhibit.example.org');
  assert.is(
    readBlobConfig({ DATA_DIR: '/tmp/x', SMTP_URL: 'smtp://m', MAIL_FROM: 'a@b.org' }).mail?.from,
    'a@b.org',
  );
});

test('refuses bad mail settings, naming the variable', () => {
  assert.match(
    refusal({ SMTP_URL: 'mail.example.org' }),
    /SMTP_URL="mail.example.org": must be a URL/,
  );
  assert.match(
    refusal({ SMTP_URL: 'https://mail.example.org' }),
    /SMTP_URL="https:\/\/mail.example.org": must start with smtp:\/\/ .* or smtps:\/\//,
  );
  assert.match(refusal({ MAIL_FROM: 'Exhibit' }), /MAIL_FROM="Exhibit": must be an address/);
  assert.match(refusal({ MAIL_FROM: 'a@b.org\nBcc: c@d.org' }), /MAIL_FROM=/);
});

test.run();
