import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBlobServer, type BlobServer } from '../server.ts';
import { createFsStore } from '../storage/fs-store.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { openIdentity, type Identity } from '../identity/index.ts';
import type { Logger } from '../../sync-server/logger.ts';

const quiet: Logger = { info() {}, warn() {}, error() {} };
const PASSWORD = 'correct horse battery staple';

interface Ctx {
  dir: string;
  store: BlobStore;
  identity: Identity;
  server: BlobServer;
  base: string;
}

interface Reply {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
  cookie: string | undefined;
}

async function call(
  ctx: Ctx,
  method: string,
  path: string,
  options: { body?: unknown; raw?: string; token?: string; cookie?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined || options.raw !== undefined)
    headers['content-type'] = 'application/json';
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  if (options.cookie) headers['cookie'] = options.cookie;
  const response = await fetch(`${ctx.base}${path}`, {
    method,
    headers,
    body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  const setCookie = response.headers.getSetCookie().find((c) => c.startsWith('exhibit_refresh='));
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    headers: response.headers,
    cookie: setCookie?.split(';')[0],
  };
}

async function setup(ctx: Ctx): Promise<void> {
  ctx.dir = await mkdtemp(join(tmpdir(), 'exhibit-auth-'));
  ctx.store = await createFsStore(join(ctx.dir, 'blobs'));
  ctx.identity = await openIdentity({
    dataDir: ctx.dir,
    accessTokenTtlSeconds: 600,
    sessionTtlMs: 24 * 3600 * 1000,
  });
  ctx.server = await createBlobServer({
    store: ctx.store,
    maxUploadBytes: 1024 * 1024,
    log: quiet,
    auth: {
      service: ctx.identity.service,
      cases: ctx.identity.cases,
      refreshTtlMs: 24 * 3600 * 1000,
    },
  });
  ctx.base = `http://127.0.0.1:${ctx.server.port}`;
}

async function teardown(ctx: Ctx): Promise<void> {
  await ctx.server.close();
  await ctx.identity.close();
  await ctx.store.close();
  await rm(ctx.dir, { recursive: true, force: true });
}

/** Creates the first administrator through the setup link and returns its session. */
async function administrator(ctx: Ctx): Promise<{ token: string; cookie: string; id: string }> {
  const setupToken = await ctx.identity.service.issueSetupToken();
  const reply = await call(ctx, 'POST', '/api/setup', {
    body: { token: setupToken, email: 'Admin@Example.org ', name: 'Ada Admin', password: PASSWORD },
  });
  assert.is(reply.status, 201, JSON.stringify(reply.body));
  return {
    token: String(reply.body['accessToken']),
    cookie: reply.cookie as string,
    id: String((reply.body['user'] as { id: string }).id),
  };
}

async function userWith(
  ctx: Ctx,
  admin: { token: string },
  email: string,
  role = 'investigator',
): Promise<{ token: string; cookie: string; id: string }> {
  const created = await call(ctx, 'POST', '/api/admin/users', {
    token: admin.token,
    body: { email, name: email, role, password: PASSWORD },
  });
  assert.is(created.status, 201, JSON.stringify(created.body));
  const login = await call(ctx, 'POST', '/api/auth/login', { body: { email, password: PASSWORD } });
  assert.is(login.status, 200, JSON.stringify(login.body));
  return {
    token: String(login.body['accessToken']),
    cookie: login.cookie as string,
    id: String((created.body as { id: string }).id),
  };
}

const first = suite<Ctx>('first run', {} as Ctx);
first.before.each(setup);
first.after.each(teardown);

first('needs setup until an administrator exists, then refuses a second setup', async (ctx) => {
  assert.equal((await call(ctx, 'GET', '/api/setup')).body, { needed: true });
  const admin = await administrator(ctx);
  assert.ok(admin.token.split('.').length === 3);
  assert.equal((await call(ctx, 'GET', '/api/setup')).body, { needed: false });
  const again = await call(ctx, 'POST', '/api/setup', {
    body: { token: 'anything', email: 'b@example.org', name: 'B', password: PASSWORD },
  });
  assert.is(again.status, 409);
  assert.match(String(again.body['message']), 'already set up');
});

first('refuses a wrong setup token and records the attempt', async (ctx) => {
  await ctx.identity.service.issueSetupToken();
  const reply = await call(ctx, 'POST', '/api/setup', {
    body: { token: 'guessed', email: 'a@example.org', name: 'A', password: PASSWORD },
  });
  assert.is(reply.status, 403);
  const audit = await ctx.identity.audit.list();
  assert.ok(audit.some((r) => r.action === 'setup.refused'));
});

first('gives browsers the refresh token only as an httpOnly cookie on /api/auth', async (ctx) => {
  const setupToken = await ctx.identity.service.issueSetupToken();
  const reply = await fetch(`${ctx.base}/api/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      token: setupToken,
      email: 'a@example.org',
      name: 'A',
      password: PASSWORD,
    }),
  });
  const cookies = reply.headers.getSetCookie();
  const refresh = cookies.find((c) => c.startsWith('exhibit_refresh=')) ?? '';
  assert.match(refresh, /HttpOnly/i);
  assert.match(refresh, /SameSite=Strict/i);
  assert.match(refresh, /Path=\/api\/auth/);
  const access = cookies.find((c) => c.startsWith('exhibit_access=')) ?? '';
  assert.match(access, /HttpOnly/i);
  assert.match(access, /SameSite=Strict/i);
  assert.match(access, /Path=\//);
  const body = (await reply.json()) as Record<string, unknown>;
  assert.is(body['refreshToken'], undefined);
  assert.is(reply.headers.get('cache-control'), 'no-store');
});

first.run();

const login = suite<Ctx>('sign-in', {} as Ctx);
login.before.each(setup);
login.after.each(teardown);

login(
  'signs in with email in any case and spacing, and /me tells who is signed in',
  async (ctx) => {
    await administrator(ctx);
    const reply = await call(ctx, 'POST', '/api/auth/login', {
      body: { email: '  ADMIN@example.ORG', password: PASSWORD },
    });
    assert.is(reply.status, 200);
    const me = await call(ctx, 'GET', '/api/auth/me', { token: String(reply.body['accessToken']) });
    assert.is(me.status, 200);
    assert.is(me.body['email'], 'admin@example.org');
    assert.is(me.body['role'], 'administrator');
    assert.is(me.body['passwordHash'], undefined);
  },
);

login('answers a wrong password and an unknown email with the same message', async (ctx) => {
  await administrator(ctx);
  const wrong = await call(ctx, 'POST', '/api/auth/login', {
    body: { email: 'admin@example.org', password: 'not the password at all' },
  });
  const unknown = await call(ctx, 'POST', '/api/auth/login', {
    body: { email: 'nobody@example.org', password: PASSWORD },
  });
  assert.is(wrong.status, 401);
  assert.is(unknown.status, 401);
  assert.is(wrong.body['message'], unknown.body['message']);
  const audit = await ctx.identity.audit.list();
  assert.is(audit.filter((r) => r.action === 'auth.login_failed').length, 2);
});

login('locks an account after repeated failures, even for the right password', async (ctx) => {
  await administrator(ctx);
  for (let i = 0; i < 5; i++) {
    const reply = await call(ctx, 'POST', '/api/auth/login', {
      body: { email: 'admin@example.org', password: `wrong password ${i}` },
    });
    assert.is(reply.status, 401);
  }
  const locked = await call(ctx, 'POST', '/api/auth/login', {
    body: { email: 'admin@example.org', password: PASSWORD },
  });
  assert.is(locked.status, 429);
  assert.is(locked.body['error'], 'too_many_attempts');
  assert.ok(Number(locked.headers.get('retry-after')) > 0);
});

login('refuses requests without, or with a malformed, access token', async (ctx) => {
  const none = await call(ctx, 'GET', '/api/auth/me');
  assert.is(none.status, 401);
  assert.is(none.headers.get('www-authenticate'), 'Bearer realm="exhibit"');
  assert.ok(String(none.body['message']).length > 5);
  const basic = await fetch(`${ctx.base}/api/auth/me`, { headers: { authorization: 'Basic abc' } });
  assert.is(basic.status, 401);
  const admin = await administrator(ctx);
  const [h, p, s] = admin.token.split('.');
  const tampered = `${h}.${p?.slice(0, -2)}AA.${s}`;
  assert.is((await call(ctx, 'GET', '/api/auth/me', { token: tampered })).status, 401);
});

login.run();

const sessions = suite<Ctx>('sessions', {} as Ctx);
sessions.before.each(setup);
sessions.after.each(teardown);

sessions('rotates the refresh token, and a reused one ends the whole session', async (ctx) => {
  const admin = await administrator(ctx);
  const first = await call(ctx, 'POST', '/api/auth/refresh', { cookie: admin.cookie });
  assert.is(first.status, 200, JSON.stringify(first.body));
  assert.ok(first.cookie && first.cookie !== admin.cookie);
  const stolen = await call(ctx, 'POST', '/api/auth/refresh', { cookie: admin.cookie });
  assert.is(stolen.status, 401);
  assert.match(String(stolen.body['message']), 'used twice');
  const legit = await call(ctx, 'POST', '/api/auth/refresh', { cookie: first.cookie });
  assert.is(legit.status, 401, 'the rotated token died with its session');
  const me = await call(ctx, 'GET', '/api/auth/me', { token: String(first.body['accessToken']) });
  assert.is(me.status, 401);
  const audit = await ctx.identity.audit.list();
  assert.ok(audit.some((r) => r.action === 'auth.refresh_reused'));
});

sessions('sign-out ends the session at once, access token included', async (ctx) => {
  const admin = await administrator(ctx);
  const out = await call(ctx, 'POST', '/api/auth/logout', { cookie: admin.cookie });
  assert.is(out.status, 204);
  assert.is((await call(ctx, 'GET', '/api/auth/me', { token: admin.token })).status, 401);
  assert.is((await call(ctx, 'POST', '/api/auth/refresh', { cookie: admin.cookie })).status, 401);
});

sessions('lets scripts carry the refresh token in the body', async (ctx) => {
  await administrator(ctx);
  const response = await fetch(`${ctx.base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-exhibit-client': 'script' },
    body: JSON.stringify({ email: 'admin@example.org', password: PASSWORD }),
  });
  const body = (await response.json()) as { refreshToken: string };
  assert.type(body.refreshToken, 'string');
  const refreshed = await call(ctx, 'POST', '/api/auth/refresh', {
    body: { refreshToken: body.refreshToken },
  });
  assert.is(refreshed.status, 200);
});

sessions('changing the password needs the current one and ends the other sessions', async (ctx) => {
  const admin = await administrator(ctx);
  const other = await call(ctx, 'POST', '/api/auth/login', {
    body: { email: 'admin@example.org', password: PASSWORD },
  });
  const wrong = await call(ctx, 'POST', '/api/auth/password', {
    token: admin.token,
    body: { currentPassword: 'nope nope nope', newPassword: 'a brand new passphrase' },
  });
  assert.is(wrong.status, 403);
  const weak = await call(ctx, 'POST', '/api/auth/password', {
    token: admin.token,
    body: { currentPassword: PASSWORD, newPassword: 'short' },
  });
  assert.is(weak.status, 400);
  const ok = await call(ctx, 'POST', '/api/auth/password', {
    token: admin.token,
    body: { currentPassword: PASSWORD, newPassword: 'a brand new passphrase' },
  });
  assert.is(ok.status, 200, JSON.stringify(ok.body));
  assert.is((await call(ctx, 'GET', '/api/auth/me', { token: admin.token })).status, 200);
  const otherMe = await call(ctx, 'GET', '/api/auth/me', {
    token: String(other.body['accessToken']),
  });
  assert.is(otherMe.status, 401);
});

sessions.run();

const admin = suite<Ctx>('administration', {} as Ctx);
admin.before.each(setup);
admin.after.each(teardown);

admin('only administrators manage users', async (ctx) => {
  const root = await administrator(ctx);
  const investigator = await userWith(ctx, root, 'ivy@example.org');
  const list = await call(ctx, 'GET', '/api/admin/users', { token: investigator.token });
  assert.is(list.status, 403);
  const create = await call(ctx, 'POST', '/api/admin/users', {
    token: investigator.token,
    body: { email: 'x@example.org', name: 'X', role: 'administrator', password: PASSWORD },
  });
  assert.is(create.status, 403);
  const users = await call(ctx, 'GET', '/api/admin/users', { token: root.token });
  assert.equal(
    (users.body['users'] as Array<{ email: string }>).map((u) => u.email),
    ['admin@example.org', 'ivy@example.org'],
  );
});

admin(
  'refuses a duplicate email, an unknown role and missing fields, saying which',
  async (ctx) => {
    const root = await administrator(ctx);
    const duplicate = await call(ctx, 'POST', '/api/admin/users', {
      token: root.token,
      body: { email: 'ADMIN@example.org', name: 'Again', role: 'analyst', password: PASSWORD },
    });
    assert.is(duplicate.status, 409);
    const role = await call(ctx, 'POST', '/api/admin/users', {
      token: root.token,
      body: { email: 'r@example.org', name: 'R', role: 'superuser', password: PASSWORD },
    });
    assert.is(role.status, 400);
    assert.match(String(role.body['message']), 'role');
    const missing = await call(ctx, 'POST', '/api/admin/users', { token: root.token, body: {} });
    assert.is(missing.status, 400);
    assert.match(String(missing.body['message']), 'email');
    assert.match(String(missing.body['message']), 'password');
  },
);

admin('keeps at least one active administrator', async (ctx) => {
  const root = await administrator(ctx);
  const demote = await call(ctx, 'PATCH', `/api/admin/users/${root.id}`, {
    token: root.token,
    body: { role: 'investigator' },
  });
  assert.is(demote.status, 409);
  const disable = await call(ctx, 'PATCH', `/api/admin/users/${root.id}`, {
    token: root.token,
    body: { disabled: true },
  });
  assert.is(disable.status, 409);
});

admin('disabling an account or changing its role ends its sessions at once', async (ctx) => {
  const root = await administrator(ctx);
  const ivy = await userWith(ctx, root, 'ivy@example.org');
  const disabled = await call(ctx, 'PATCH', `/api/admin/users/${ivy.id}`, {
    token: root.token,
    body: { disabled: true },
  });
  assert.is(disabled.status, 200);
  assert.is((await call(ctx, 'GET', '/api/auth/me', { token: ivy.token })).status, 401);
  const relogin = await call(ctx, 'POST', '/api/auth/login', {
    body: { email: 'ivy@example.org', password: PASSWORD },
  });
  assert.is(relogin.status, 401);
  const audit = await ctx.identity.audit.list();
  assert.ok(audit.some((r) => r.action === 'user.updated' && r.target === `user:${ivy.id}`));
});

admin('a password reset by an administrator must be changed at next sign-in', async (ctx) => {
  const root = await administrator(ctx);
  const ivy = await userWith(ctx, root, 'ivy@example.org');
  const reset = await call(ctx, 'POST', `/api/admin/users/${ivy.id}/password`, {
    token: root.token,
    body: { password: 'temporary passphrase 1' },
  });
  assert.is(reset.status, 200);
  assert.is(reset.body['mustChangePassword'], true);
  assert.is((await call(ctx, 'GET', '/api/auth/me', { token: ivy.token })).status, 401);
});

admin.run();

const bad = suite<Ctx>('bad requests', {} as Ctx);
bad.before.each(setup);
bad.after.each(teardown);

bad('answers broken JSON, oversized bodies and unknown routes clearly', async (ctx) => {
  const broken = await call(ctx, 'POST', '/api/auth/login', { raw: '{"email": ' });
  assert.is(broken.status, 400);
  assert.match(String(broken.body['message']), 'not valid JSON');
  const huge = await call(ctx, 'POST', '/api/auth/login', {
    raw: JSON.stringify({ email: 'a@example.org', password: 'x'.repeat(100_000) }),
  });
  assert.is(huge.status, 413);
  assert.is(huge.body['error'], 'payload_too_large');
  const long = await call(ctx, 'POST', '/api/auth/login', {
    body: { email: 'a@example.org', password: 'x'.repeat(300) },
  });
  assert.is(long.status, 400);
  assert.is((await call(ctx, 'GET', '/api/auth/nothing')).status, 404);
  assert.is((await call(ctx, 'GET', '/api/health')).status, 200, 'still serving');
});

bad.run();

const hostile = suite<Ctx>('hostile requests', {} as Ctx);
hostile.before.each(setup);
hostile.after.each(teardown);

hostile('refuses oversized headers with 431 and keeps serving', async (ctx) => {
  const admin = await administrator(ctx);
  const { request } = await import('node:http');
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${ctx.base}/api/auth/me`, {
      headers: { authorization: `Bearer ${admin.token}`, 'x-padding': 'x'.repeat(64 * 1024) },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  assert.is(status, 431);
  assert.is((await call(ctx, 'GET', '/api/auth/me', { token: admin.token })).status, 200);
});

hostile(
  'refuses tokens that are not ours: none-signed, another issuer’s, truncated',
  async (ctx) => {
    const admin = await administrator(ctx);
    const [header, payload] = admin.token.split('.') as [string, string, string];
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
    const other = await openIdentity({
      dataDir: join(ctx.dir, 'other-server'),
      accessTokenTtlSeconds: 600,
      sessionTtlMs: 3600_000,
    });
    const foreign = await other.service.setup(
      {
        token: (await other.service.issueSetupToken()) ?? '',
        email: 'admin@example.org',
        name: 'Other',
        password: PASSWORD,
      },
      { ip: '127.0.0.1' },
    );
    for (const token of [none, foreign.accessToken, `${header}.${payload}`, 'x'.repeat(5000)]) {
      const reply = await call(ctx, 'GET', '/api/auth/me', { token });
      assert.is(reply.status, 401, token.slice(0, 30));
      assert.ok(String(reply.body['message']).length > 5);
    }
    await other.close();
  },
);

hostile.run();

const temporary = suite<Ctx>('temporary passwords', {} as Ctx);
temporary.before.each(setup);
temporary.after.each(teardown);

temporary('open nothing but the password change until the person picks their own', async (ctx) => {
  const root = await administrator(ctx);
  await call(ctx, 'POST', '/api/admin/users', {
    token: root.token,
    body: { email: 'tia@example.org', name: 'Tia', role: 'investigator', password: PASSWORD },
  });
  const login = await call(ctx, 'POST', '/api/auth/login', {
    body: { email: 'tia@example.org', password: PASSWORD },
  });
  const token = String(login.body['accessToken']);
  const members = await call(ctx, 'GET', '/api/cases/0123456789abcdef/members', { token });
  assert.is(members.status, 403);
  assert.match(String(members.body['message']), 'temporary');
  assert.is((await call(ctx, 'GET', '/api/auth/me', { token })).status, 200);
  const changed = await call(ctx, 'POST', '/api/auth/password', {
    token,
    body: { currentPassword: PASSWORD, newPassword: 'my very own passphrase' },
  });
  assert.is(changed.status, 200);
  const after = await call(ctx, 'GET', '/api/cases/0123456789abcdef/members', { token });
  // Now the ordinary rules apply: Tia is simply not a member of that case.
  assert.is(after.body['message'], 'you have no access to this case');
});

temporary.run();
