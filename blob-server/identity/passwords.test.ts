import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { argon2id, argon2Verify } from 'hash-wasm';
import { randomBytes } from 'node:crypto';
import { hashPassword, needsRehash, passwordProblem, verifyPassword } from './passwords.ts';

const PHC = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$/;

/** Hashes made once and shared: each one costs tens of milliseconds. */
const password = 'correct horse battery staple';
const stored = await hashPassword(password);

function b64(bytes: number): string {
  return randomBytes(bytes).toString('base64').replace(/=+$/, '');
}

/** A PHC string with the given fields, for tests that only parse. */
function phc(fields: { m?: number; t?: number; p?: number; salt?: number; hash?: number }): string {
  const { m = 19456, t = 2, p = 1, salt = 16, hash = 32 } = fields;
  return `$argon2id$v=19$m=${m},t=${t},p=${p}$${b64(salt)}$${b64(hash)}`;
}

async function legacyHash(pw: string, memorySize: number, iterations: number): Promise<string> {
  return argon2id({
    password: pw,
    salt: randomBytes(16),
    memorySize,
    iterations,
    parallelism: 1,
    hashLength: 32,
    outputType: 'encoded',
  });
}

const hash = suite('hashPassword');

hash(
  'returns a PHC argon2id string with the OWASP parameters, a 16-byte salt and 32-byte hash',
  () => {
    const match = PHC.exec(stored);
    assert.ok(match, stored);
    assert.is(Buffer.from(match[1]!, 'base64').length, 16);
    assert.is(Buffer.from(match[2]!, 'base64').length, 32);
  },
);

hash('is readable by an independent PHC parser', async () => {
  assert.ok(await argon2Verify({ password, hash: stored }));
});

hash('uses a fresh random salt each time', async () => {
  const again = await hashPassword(password);
  assert.is.not(again, stored);
  assert.is.not(PHC.exec(again)?.[1], PHC.exec(stored)?.[1]);
  assert.ok(await verifyPassword(password, again));
});

hash.run();

const verify = suite('verifyPassword');

verify('accepts the password the hash was made from', async () => {
  assert.is(await verifyPassword(password, stored), true);
});

verify('refuses any other password, however close', async () => {
  for (const wrong of [
    'correct horse battery stapl',
    'Correct horse battery staple',
    'correct horse battery staple ',
    '',
  ]) {
    assert.is(await verifyPassword(wrong, stored), false, JSON.stringify(wrong));
  }
});

verify(
  'accepts a hash made by another Argon2 implementation (argon2-cffi, m=64 MiB, p=4)',
  async () => {
    const reference =
      '$argon2id$v=19$m=65536,t=3,p=4$MIIRqgvgQbgj220jfp0MPA$YfwJSVjtjSU0zzV/P3S9nnQ/USre2wvJMjfCIjrTQbg';
    assert.is(await verifyPassword('correct horse battery staple', reference), true);
    assert.is(await verifyPassword('Tr0ub4dor&3', reference), false);
  },
);

verify('accepts hashes made with older, weaker parameters', async () => {
  assert.is(await verifyPassword(password, await legacyHash(password, 4096, 1)), true);
});

verify('treats canonically equivalent Unicode (NFC and NFD) as the same password', async () => {
  const composed = 'Crème brûlée à l’Ørsted, señor 東京'.normalize('NFC');
  const decomposed = composed.normalize('NFD');
  assert.is.not(composed, decomposed);
  assert.ok(await verifyPassword(decomposed, await hashPassword(composed)));
  assert.ok(await verifyPassword(composed, await hashPassword(decomposed)));
});

verify('keeps compatibility characters distinct (NFC, not NFKC)', async () => {
  const ligature = await hashPassword('ﬁnancial records 2024');
  assert.is(await verifyPassword('financial records 2024', ligature), false);
  assert.is(await verifyPassword('ﬁnancial records 2024', ligature), true);
});

verify('handles emoji and astral-plane characters', async () => {
  const emoji = '🔐🗝️ evidence locker 🧾';
  assert.ok(await verifyPassword(emoji, await hashPassword(emoji)));
});

verify('refuses unreadable or out-of-bounds hashes without computing them', async () => {
  const [, salt = '', digest = ''] = stored.split('$').slice(-3);
  const fields = `$${salt}$${digest}`;
  const last = digest.at(-1)!;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  // The last of 43 characters carries 2 unused bits: this one decodes to the same bytes.
  const sameBytes = alphabet[alphabet.indexOf(last) ^ 1]!;
  const bad: Record<string, string> = {
    empty: '',
    'plain text': 'correct horse battery staple',
    'only the prefix': '$argon2id$',
    truncated: stored.slice(0, -10),
    'cut after the parameters': stored.slice(0, stored.indexOf('$', 30)),
    argon2i: `$argon2i$v=19$m=19456,t=2,p=1${fields}`,
    argon2d: `$argon2d$v=19$m=19456,t=2,p=1${fields}`,
    bcrypt: '$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW',
    'argon2 version 1.0': `$argon2id$v=16$m=19456,t=2,p=1${fields}`,
    'no version': `$argon2id$m=19456,t=2,p=1${fields}`,
    'parameters reordered': `$argon2id$v=19$t=2,m=19456,p=1${fields}`,
    'extra parameter': `$argon2id$v=19$m=19456,t=2,p=1,keyid=a${fields}`,
    'memory 4 GiB': `$argon2id$v=19$m=4194304,t=2,p=1${fields}`,
    'memory just over 1 GiB': `$argon2id$v=19$m=1048577,t=2,p=1${fields}`,
    'memory below 8 KiB per lane': `$argon2id$v=19$m=15,t=2,p=2${fields}`,
    '21 iterations': `$argon2id$v=19$m=19456,t=21,p=1${fields}`,
    '2^32-1 iterations': `$argon2id$v=19$m=19456,t=4294967295,p=1${fields}`,
    'zero iterations': `$argon2id$v=19$m=19456,t=0,p=1${fields}`,
    'zero lanes': `$argon2id$v=19$m=19456,t=2,p=0${fields}`,
    '17 lanes': `$argon2id$v=19$m=19456,t=2,p=17${fields}`,
    'negative memory': `$argon2id$v=19$m=-19456,t=2,p=1${fields}`,
    'invalid base64 character': `$argon2id$v=19$m=19456,t=2,p=1$${salt.slice(1)}!$${digest}`,
    'base64url alphabet': `$argon2id$v=19$m=19456,t=2,p=1$${salt.slice(1)}_$${digest}`,
    'padded base64': `${stored}=`,
    'non-canonical base64': stored.slice(0, -1) + sameBytes,
    'salt of 4 bytes': `$argon2id$v=19$m=19456,t=2,p=1$${b64(4)}$${digest}`,
    'hash of 8 bytes': `$argon2id$v=19$m=19456,t=2,p=1$${salt}$${b64(8)}`,
    'hash of 128 bytes': `$argon2id$v=19$m=19456,t=2,p=1$${salt}$${b64(128)}`,
    'trailing newline': `${stored}\n`,
    'leading space': ` ${stored}`,
    'one megabyte': `${stored}${'A'.repeat(1 << 20)}`,
  };
  const started = performance.now();
  for (const [name, encoded] of Object.entries(bad)) {
    assert.is(await verifyPassword(password, encoded), false, name);
  }
  // One computation with 21 iterations, or with a gigabyte, would take far longer than this.
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 150, `${Object.keys(bad).length} refusals took ${elapsed.toFixed(0)} ms`);
});

verify('refuses a well-formed hash whose fields were altered or shortened', async () => {
  const swap = (text: string, at: number) =>
    text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
  const digestAt = stored.lastIndexOf('$') + 5;
  const saltAt = stored.lastIndexOf('$', stored.lastIndexOf('$') - 1) + 5;
  const altered = [
    swap(stored, digestAt),
    swap(stored, saltAt),
    stored.replace('m=19456', 'm=19457'),
    stored.replace('t=2', 't=3'),
    stored.slice(0, -11),
  ];
  for (const encoded of altered) {
    assert.is.not(encoded, stored);
    assert.is(await verifyPassword(password, encoded), false, encoded);
  }
});

verify('returns false rather than throwing for values that are not strings', async () => {
  assert.is(await verifyPassword(password, undefined as unknown as string), false);
  assert.is(await verifyPassword(undefined as unknown as string, stored), false);
});

verify('gives each of several concurrent checks its own answer', async () => {
  const results = await Promise.all([
    verifyPassword(password, stored),
    verifyPassword('wrong horse battery staple', stored),
    verifyPassword(password, stored),
    verifyPassword('correct horse battery stapler', stored),
  ]);
  assert.equal(results, [true, false, true, false]);
});

verify.run();

const rehash = suite('needsRehash');

rehash('is false for a hash made now', () => {
  assert.is(needsRehash(stored), false);
});

rehash('is true when memory, iterations, hash or salt length are below the current ones', () => {
  assert.is(needsRehash(phc({ m: 4096, t: 1 })), true);
  assert.is(needsRehash(phc({ m: 19455 })), true);
  assert.is(needsRehash(phc({ t: 1 })), true);
  assert.is(needsRehash(phc({ hash: 16 })), true);
  assert.is(needsRehash(phc({ salt: 8 })), true);
});

rehash('is false for stronger parameters', () => {
  assert.is(needsRehash(phc({ m: 65536, t: 3, p: 4 })), false);
  assert.is(needsRehash(phc({ m: 19456, t: 2, hash: 64, salt: 32 })), false);
});

rehash('is true for a value that cannot be read', () => {
  assert.is(needsRehash(''), true);
  assert.is(needsRehash('$argon2i$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAA'), true);
  assert.is(needsRehash(phc({ m: 4194304 })), true);
});

rehash.run();

const policy = suite('passwordProblem');

policy('accepts 12 to 256 characters of anything, with no composition rules', () => {
  for (const ok of [
    'abcdefghijkl',
    'correct horse battery staple',
    '111111111111',
    'x'.repeat(256),
    '  padded with spaces  ',
    'пароль безопасный',
  ]) {
    assert.is(passwordProblem(ok), undefined, ok);
  }
});

policy('asks for at least 12 characters, saying how many there are', () => {
  const message = passwordProblem('abcdefghijk');
  assert.ok(message?.includes('at least 12 characters'), message);
  assert.ok(message?.includes('has 11'), message);
});

policy('refuses more than 256 characters', () => {
  const message = passwordProblem('x'.repeat(257));
  assert.ok(message?.includes('at most 256 characters'), message);
});

policy('refuses empty and whitespace-only passwords', () => {
  for (const blank of ['', ' ', ' '.repeat(20), '\t\n '.repeat(5), '\u3000'.repeat(12)]) {
    const message = passwordProblem(blank);
    assert.ok(message?.includes('empty or only spaces'), JSON.stringify(blank));
  }
});

policy('counts characters as a person sees them, not UTF-16 units or decomposed marks', () => {
  assert.ok(passwordProblem('🔐'.repeat(11)), '11 emoji are 22 UTF-16 units but 11 characters');
  assert.is(passwordProblem('🔐'.repeat(12)), undefined);
  assert.is(passwordProblem('🔐'.repeat(200)), undefined, '200 emoji are 400 UTF-16 units');
  assert.ok(passwordProblem('e\u0301'.repeat(11)), '11 é typed as e + combining accent');
});

policy.run();
