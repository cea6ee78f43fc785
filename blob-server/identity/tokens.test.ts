import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompactSign,
  SignJWT,
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  type JWK_OKP_Private,
} from 'jose';
import {
  InvalidToken,
  MAX_TOKEN_LENGTH,
  SIGNING_KEY_FILE,
  SigningKeyUnusable,
  TokenService,
  type AccessClaims,
  type TokenServiceOptions,
} from './tokens.ts';

const ISSUER = 'https://exhibit.example';
const AUDIENCE = 'exhibit-api';
const TTL = 900;
const START = Date.parse('2025-03-01T09:00:00Z');
const claims: AccessClaims = { sub: 'user-7f3a', role: 'investigator', sid: 'session-91c2' };

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'exhibit-tokens-'));
}

/** A service with a clock the test moves by hand. */
async function openService(
  keyDir: string,
  overrides: Partial<TokenServiceOptions> = {},
): Promise<{ service: TokenService; clock: { ms: number } }> {
  const clock = { ms: START };
  const service = await TokenService.open({
    keyDir,
    issuer: ISSUER,
    audience: AUDIENCE,
    ttlSeconds: TTL,
    now: () => clock.ms,
    ...overrides,
  });
  return { service, clock };
}

/** Expects verify() to refuse `token` with a message containing `expected`. */
async function assertRefused(
  service: TokenService,
  token: string | undefined,
  expected: string,
): Promise<void> {
  try {
    await service.verify(token);
  } catch (err) {
    assert.instance(err, InvalidToken);
    assert.is((err as InvalidToken).status, 401);
    assert.is((err as InvalidToken).code, 'invalid_token');
    const { message } = err as InvalidToken;
    assert.ok(message.includes(expected), `expected "${expected}" in "${message}"`);
    return;
  }
  assert.unreachable(`accepted ${token?.slice(0, 60)}…`);
}

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** A token signed with the service's own key, with whatever header and claims a test needs. */
async function forge(
  keyDir: string,
  payload: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const jwk = JSON.parse(await readFile(join(keyDir, SIGNING_KEY_FILE), 'utf8')) as JWK_OKP_Private;
  const key = await importJWK({ kty: 'OKP', crv: jwk.crv, x: jwk.x, d: jwk.d }, 'EdDSA');
  const now = Math.floor(START / 1000);
  return new SignJWT({
    iss: ISSUER,
    aud: AUDIENCE,
    iat: now,
    exp: now + TTL,
    ...claims,
    ...payload,
  })
    .setProtectedHeader({ alg: 'EdDSA', kid: jwk.kid, typ: 'JWT', ...header })
    .sign(key);
}

const dir = await tempDir();
const { service, clock } = await openService(dir);

const sign = suite('TokenService.sign');

sign('issues an EdDSA JWT naming its key, with the claims and a lifetime of ttl', async () => {
  const token = await service.sign(claims);
  assert.equal(decodeProtectedHeader(token), { alg: 'EdDSA', kid: service.kid, typ: 'JWT' });
  const payload = decodeJwt(token);
  const iat = Math.floor(START / 1000);
  assert.equal(
    { ...payload, jti: undefined },
    { ...claims, iss: ISSUER, aud: AUDIENCE, iat, exp: iat + TTL, jti: undefined },
  );
  assert.type(payload.jti, 'string');
  assert.ok(payload.jti!.length >= 22);
});

sign('gives every token its own jti', async () => {
  const a = decodeJwt(await service.sign(claims)).jti;
  const b = decodeJwt(await service.sign(claims)).jti;
  assert.is.not(a, b);
});

sign('refuses to sign claims that verify() would reject', async () => {
  const bad: unknown[] = [
    { ...claims, role: 'superuser' },
    { ...claims, sub: '' },
    { ...claims, sid: '' },
    { ...claims, sid: undefined },
  ];
  for (const c of bad) {
    try {
      await service.sign(c as AccessClaims);
      assert.unreachable(JSON.stringify(c));
    } catch (err) {
      assert.instance(err, TypeError, JSON.stringify(c));
    }
  }
});

sign.run();

const verify = suite('TokenService.verify');

verify.before.each(() => {
  clock.ms = START;
});

verify('returns the claims and expiry of a token it issued', async () => {
  const token = await service.sign(claims);
  clock.ms += 60_000;
  assert.equal(await service.verify(token), {
    ...claims,
    exp: Math.floor(START / 1000) + TTL,
  });
});

verify('accepts every role', async () => {
  for (const role of ['administrator', 'supervisor', 'investigator', 'analyst', 'guest'] as const) {
    assert.is((await service.verify(await service.sign({ ...claims, role }))).role, role);
  }
});

verify('refuses an expired token, allowing five seconds of clock skew', async () => {
  const token = await service.sign(claims);
  clock.ms = START + (TTL + 4) * 1000;
  await service.verify(token);
  clock.ms = START + (TTL + 5) * 1000;
  await assertRefused(service, token, 'the token has expired');
  clock.ms = START + 86_400_000;
  await assertRefused(service, token, 'the token has expired');
});

verify('refuses a token issued in the future beyond the tolerance', async () => {
  const { service: ahead, clock: aheadClock } = await openService(dir);
  aheadClock.ms = START + 60_000;
  const token = await ahead.sign(claims);
  await assertRefused(service, token, 'issued in the future');
  aheadClock.ms = START + 4_000;
  await service.verify(await ahead.sign(claims));
});

verify('refuses a token whose "nbf" is still to come', async () => {
  const now = Math.floor(START / 1000);
  await assertRefused(service, await forge(dir, { nbf: now + 60 }), 'not valid yet');
  await service.verify(await forge(dir, { nbf: now }));
});

verify('refuses a token living longer than the ttl, even when "exp" says otherwise', async () => {
  const now = Math.floor(START / 1000);
  const longLived = await forge(dir, { iat: now - TTL - 60, exp: now + 86_400 });
  await assertRefused(service, longLived, 'the token has expired (it was issued over 900 seconds');
});

verify('refuses a token whose payload was altered', async () => {
  const [header, payload, signature] = (await service.sign(claims)).split('.') as [
    string,
    string,
    string,
  ];
  const promoted = b64url(
    JSON.stringify({ ...decodeJwt(`${header}.${payload}.${signature}`), role: 'administrator' }),
  );
  await assertRefused(service, `${header}.${promoted}.${signature}`, 'signature does not verify');
  const middle = payload.length >> 1;
  const flipped =
    payload.slice(0, middle) + (payload[middle] === 'A' ? 'B' : 'A') + payload.slice(middle + 1);
  await assertRefused(service, `${header}.${flipped}.${signature}`, 'signature does not verify');
});

verify('refuses a token whose signature was altered', async () => {
  const token = await service.sign(claims);
  const at = token.lastIndexOf('.') + 20;
  const altered = token.slice(0, at) + (token[at] === 'A' ? 'B' : 'A') + token.slice(at + 1);
  await assertRefused(service, altered, 'signature does not verify');
  await assertRefused(
    service,
    token.slice(0, token.lastIndexOf('.') + 1),
    'signature does not verify',
  );
});

verify('refuses a token respelled so that it decodes to the same bytes', async () => {
  const token = await service.sign(claims);
  // An Ed25519 signature is 64 bytes: its 86th base64url character carries 4 unused bits.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(token.at(-1)!);
  const respelled = [
    token.slice(0, -1) + alphabet[last ^ 1],
    token.slice(0, -1) + alphabet[last ^ 0b1111],
    `${token}==`,
    `${token} `,
    ` ${token}`,
    token.replace('.', ' .'),
    `${token.slice(0, 10)}+${token.slice(11)}`,
  ];
  for (const r of respelled) await assertRefused(service, r, 'malformed token');
});

verify('refuses an unsigned token ("alg": "none")', async () => {
  const now = Math.floor(START / 1000);
  const payload = b64url(
    JSON.stringify({ ...claims, iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + TTL }),
  );
  for (const header of [{ alg: 'none' }, { alg: 'none', typ: 'JWT', kid: service.kid }]) {
    const token = `${b64url(JSON.stringify(header))}.${payload}.`;
    await assertRefused(service, token, 'signing algorithm is not accepted');
  }
});

verify('refuses HS256 keyed with the public key (algorithm confusion)', async () => {
  const now = Math.floor(START / 1000);
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: service.kid }));
  const payload = b64url(
    JSON.stringify({ ...claims, iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + TTL }),
  );
  const jwk = service.publicJwks().keys[0]!;
  const secrets = [Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.x!), JSON.stringify(jwk)];
  for (const secret of secrets) {
    const mac = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
    await assertRefused(service, `${header}.${payload}.${mac}`, 'algorithm is not accepted');
  }
});

verify("refuses a token signed by another server's key, even one claiming our kid", async () => {
  const otherDir = await tempDir();
  const { service: other } = await openService(otherDir);
  assert.is.not(other.kid, service.kid);
  await assertRefused(service, await other.sign(claims), 'not issued by this server');
  await assertRefused(
    service,
    await forge(otherDir, {}, { kid: service.kid }),
    'signature does not verify',
  );
  await assertRefused(service, await forge(dir, {}, { kid: undefined }), 'has no "kid"');
  await rm(otherDir, { recursive: true });
});

verify('refuses a token from another issuer or for another audience', async () => {
  const { service: otherIssuer } = await openService(dir, { issuer: 'https://evil.example' });
  await assertRefused(service, await otherIssuer.sign(claims), 'not issued by this server');
  const { service: otherAudience } = await openService(dir, { audience: 'exhibit-sync' });
  await assertRefused(service, await otherAudience.sign(claims), 'meant for another service');
  await service.verify(await forge(dir, { aud: ['exhibit-sync', AUDIENCE] }));
});

verify('refuses a token that is not typed as a JWT', async () => {
  await assertRefused(service, await forge(dir, {}, { typ: 'at+jwt' }), '"typ" header');
  await assertRefused(service, await forge(dir, {}, { typ: undefined }), '"typ" header');
});

verify('refuses a missing token', async () => {
  await assertRefused(service, undefined, 'missing token');
  await assertRefused(service, '', 'missing token');
});

verify('refuses garbage as a malformed token', async () => {
  const token = await service.sign(claims);
  const [header, payload] = token.split('.') as [string, string];
  const garbage = [
    'garbage',
    `Bearer ${token}`,
    ` ${token}`,
    `${token}.`,
    token.replaceAll('.', ''),
    'a.b.c',
    '..',
    `${header}.${payload}`,
    `${b64url('{"alg":"EdDSA"')}.${payload}.AAAA`,
    `${b64url('[]')}.${payload}.AAAA`,
    `${header}.${payload}.!!!!`,
    `${header}.${payload}.${'A'.repeat(86)}é`,
    '\u0000.\u0000.\u0000',
    [header, payload, 'x'].join('\n'),
  ];
  for (const g of garbage) await assertRefused(service, g, 'malformed token');
});

verify('refuses a token signed with our key whose payload is not a JSON object', async () => {
  const jwk = JSON.parse(await readFile(join(dir, SIGNING_KEY_FILE), 'utf8')) as JWK_OKP_Private;
  const key = await importJWK({ kty: 'OKP', crv: jwk.crv, x: jwk.x, d: jwk.d }, 'EdDSA');
  const header = b64url(JSON.stringify({ alg: 'EdDSA', kid: jwk.kid, typ: 'JWT' }));
  for (const body of ['"just a string"', '[1,2]', 'not json']) {
    const payload = b64url(body);
    const jws = await new CompactSign(Buffer.from(body))
      .setProtectedHeader({ alg: 'EdDSA', kid: jwk.kid, typ: 'JWT' })
      .sign(key);
    assert.is(jws.split('.')[0], header);
    assert.is(jws.split('.')[1], payload);
    await assertRefused(service, jws, 'malformed token');
  }
});

verify('refuses an oversized token before parsing it', async () => {
  const token = await service.sign(claims);
  const padded = `${token.split('.')[0]}.${'A'.repeat(MAX_TOKEN_LENGTH)}.x`;
  await assertRefused(service, padded, `longer than ${MAX_TOKEN_LENGTH} characters`);
  await assertRefused(service, 'x'.repeat(10_000_000), `longer than ${MAX_TOKEN_LENGTH}`);
});

verify(
  'refuses tokens signed by our key whose claims are missing or of the wrong kind',
  async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ role: 'superuser' }, '"role" claim is not a known role'],
      [{ role: 'Administrator' }, '"role" claim is not a known role'],
      [{ role: ['administrator'] }, '"role" claim is not a known role'],
      [{ role: undefined }, 'has no "role" claim'],
      [{ sid: undefined }, 'has no "sid" claim'],
      [{ sid: '' }, '"sid" claim is not a session id'],
      [{ sid: 42 }, '"sid" claim is not a session id'],
      [{ sub: undefined }, 'has no "sub" claim'],
      [{ sub: '' }, '"sub" claim is not a user id'],
      [{ sub: { id: 'x' } }, '"sub" claim is not a user id'],
      [{ exp: undefined }, 'has no "exp" claim'],
      [{ exp: 'tomorrow' }, '"exp" claim is not valid'],
      [{ iat: undefined }, 'has no "iat" claim'],
      [{ iat: 'today' }, '"iat" claim is not a time'],
      [{ iss: undefined }, 'has no "iss" claim'],
      [{ aud: undefined }, 'has no "aud" claim'],
    ];
    for (const [payload, expected] of cases) {
      await assertRefused(service, await forge(dir, payload), expected);
    }
  },
);

verify.run();

const keys = suite('TokenService.open');

keys('keeps the key across a reopen, so earlier tokens still verify', async () => {
  const keyDir = await tempDir();
  const first = await openService(keyDir);
  const token = await first.service.sign(claims);
  const second = await openService(keyDir);
  assert.is(second.service.kid, first.service.kid);
  assert.equal(second.service.publicJwks(), first.service.publicJwks());
  assert.equal(await second.service.verify(token), await first.service.verify(token));
  await rm(keyDir, { recursive: true });
});

keys('writes the key file readable by its owner only, in a private directory', async () => {
  const parent = await tempDir();
  const keyDir = join(parent, 'secrets', 'tokens');
  await openService(keyDir);
  assert.is((await stat(join(keyDir, SIGNING_KEY_FILE))).mode & 0o777, 0o600);
  assert.is((await stat(keyDir)).mode & 0o777, 0o700);
  assert.equal(await readdir(keyDir), [SIGNING_KEY_FILE], 'no temporary file is left behind');
  await rm(parent, { recursive: true });
});

keys('stores a private JWK whose kid is its RFC 7638 thumbprint', async () => {
  const stored = JSON.parse(await readFile(join(dir, SIGNING_KEY_FILE), 'utf8')) as Record<
    string,
    unknown
  >;
  assert.equal(Object.keys(stored).sort(), ['alg', 'crv', 'd', 'kid', 'kty', 'use', 'x']);
  assert.is(stored.kid, service.kid);
  assert.is(stored.kty, 'OKP');
  assert.is(stored.crv, 'Ed25519');
  assert.match(service.kid, /^[A-Za-z0-9_-]{43}$/);
});

keys('agrees on one key when two servers start on an empty directory at once', async () => {
  const keyDir = await tempDir();
  const opened = await Promise.all([openService(keyDir), openService(keyDir), openService(keyDir)]);
  const kids = new Set(opened.map(({ service: s }) => s.kid));
  assert.is(kids.size, 1);
  assert.equal(await readdir(keyDir), [SIGNING_KEY_FILE]);
  const token = await opened[0]!.service.sign(claims);
  await opened[2]!.service.verify(token);
  await rm(keyDir, { recursive: true });
});

keys('refuses an unusable key file, naming it, and leaves it as it was', async () => {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const other = (await exportJWK(privateKey)) as JWK_OKP_Private;
  const good = JSON.parse(await readFile(join(dir, SIGNING_KEY_FILE), 'utf8')) as JWK_OKP_Private;
  const corrupt: [string, string][] = [
    ['', 'not valid JSON'],
    ['{"kty":"OKP","crv":"Ed25519","x":"', 'not valid JSON'],
    ['null', 'not a JSON object'],
    [JSON.stringify({ ...good, crv: 'Ed448' }), 'not an Ed25519 key'],
    [JSON.stringify({ ...good, d: undefined }), 'lacks "x" or "d"'],
    [JSON.stringify({ ...good, kid: 'chosen-by-someone' }), 'not the thumbprint'],
    [JSON.stringify({ ...good, kid: undefined }), 'not the thumbprint'],
    [JSON.stringify({ ...good, d: other.d }), 'cannot be imported'],
    [JSON.stringify({ ...good, d: 'AAAA' }), 'cannot be imported'],
  ];
  for (const [contents, reason] of corrupt) {
    const keyDir = await tempDir();
    const path = join(keyDir, SIGNING_KEY_FILE);
    await writeFile(path, contents, { mode: 0o600 });
    try {
      await openService(keyDir);
      assert.unreachable(`opened with ${contents}`);
    } catch (err) {
      assert.instance(err, SigningKeyUnusable, contents);
      const { message } = err as Error;
      assert.ok(message.includes(path), message);
      assert.ok(message.includes(reason), `expected "${reason}" in "${message}"`);
    }
    assert.is(await readFile(path, 'utf8'), contents, 'the key file is not replaced');
    await rm(keyDir, { recursive: true });
  }
});

keys('refuses nonsense options', async () => {
  for (const overrides of [
    { issuer: '' },
    { audience: '' },
    { ttlSeconds: 0 },
    { ttlSeconds: -5 },
    { ttlSeconds: 1.5 },
    { ttlSeconds: Number.NaN },
  ]) {
    try {
      await openService(dir, overrides);
      assert.unreachable(JSON.stringify(overrides));
    } catch (err) {
      assert.instance(err, TypeError, JSON.stringify(overrides));
    }
  }
});

keys.run();

const jwks = suite('TokenService.publicJwks');

jwks('publishes only the public half, enough for another service to verify tokens', async () => {
  const set = service.publicJwks();
  assert.equal(set.keys, [
    {
      kty: 'OKP',
      crv: 'Ed25519',
      x: set.keys[0]!.x,
      kid: service.kid,
      alg: 'EdDSA',
      use: 'sig',
    },
  ]);
  const token = await service.sign(claims);
  const { payload } = await jwtVerify(token, createLocalJWKSet(set), {
    issuer: ISSUER,
    audience: AUDIENCE,
    currentDate: new Date(START),
  });
  assert.is(payload.sub, claims.sub);
});

jwks('returns a copy the caller cannot use to change the key', () => {
  const set = service.publicJwks();
  set.keys[0]!.x = 'tampered';
  assert.is.not(service.publicJwks().keys[0]!.x, 'tampered');
});

jwks.after(async () => {
  await rm(dir, { recursive: true });
});

jwks.run();
