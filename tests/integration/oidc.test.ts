import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBlobConfig, type OidcConfig } from '../../blob-server/config.ts';
import { SingleSignOn, roleFromClaims } from '../../blob-server/identity/oidc.ts';
import { createBlobServer, type BlobServer } from '../../blob-server/server.ts';
import { createFsStore } from '../../blob-server/storage/fs-store.ts';
import type { BlobStore } from '../../blob-server/storage/blob-store.ts';
import type { Logger } from '../../sync-server/logger.ts';
import type { PublicUser } from '../../web/lib/shared/auth-schemas.ts';
import { testIdentity } from '../helpers/identity.ts';
import { freePort } from '../helpers/net.ts';
import {
  signInAtProvider,
  startOidcProvider,
  type ProviderUser,
  type TestOidcProvider,
} from '../helpers/oidc-provider.ts';

const quiet: Logger = { info() {}, warn() {}, error() {} } as unknown as Logger;

const PEOPLE: Record<string, ProviderUser> = {
  dana: {
    email: 'Dana@Example.org',
    email_verified: true,
    name: 'Dana Detective',
    roles: ['detectives'],
  },
  boss: {
    email: 'boss@example.org',
    email_verified: true,
    name: 'Bo Boss',
    roles: ['detectives', 'exhibit-admins', 'unrelated'],
  },
  nobody: { email: 'nobody@example.org', email_verified: true, name: 'No Groups', roles: [] },
  sneaky: { email: 'admin@example.org', email_verified: false, name: 'Not Admin', roles: [] },
  lee: { email: 'lee@example.org', email_verified: true, name: 'Lee Local', roles: ['analysts'] },
  dis: { email: 'dis@example.org', email_verified: true, name: 'Dis Abled', roles: ['detectives'] },
};

function oidcEnv(issuer: string, publicUrl: string, extra: Record<string, string> = {}) {
  return {
    OIDC_ISSUER: issuer,
    OIDC_CLIENT_ID: 'exhibit',
    OIDC_CLIENT_SECRET: 'exhibit-test-client-secret',
    OIDC_ROLE_MAP: 'exhibit-admins=administrator, detectives=investigator,analysts=analyst',
    PUBLIC_URL: publicUrl,
    ...extra,
  };
}

function configFrom(env: Record<string, string>): OidcConfig {
  const oidc = readBlobConfig(env).oidc;
  if (!oidc) throw new Error('expected single sign-on to be configured');
  return oidc;
}

function configError(env: Record<string, string>): string {
  try {
    readBlobConfig(env);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

// --- configuration ------------------------------------------------------------------------

const config = suite('readBlobConfig (single sign-on)');

config('leaves single sign-on off without OIDC_ISSUER', () => {
  assert.is(readBlobConfig({}).oidc, undefined);
});

config('reads the provider, the redirect URI and the documented defaults', () => {
  const oidc = configFrom({
    OIDC_ISSUER: 'https://login.example.org/realms/staff',
    OIDC_CLIENT_ID: 'exhibit',
    PUBLIC_URL: 'https://exhibit.example.org',
    OIDC_ROLE_MAP: 'exhibit-admins=administrator,detectives=investigator',
  });
  assert.is(oidc.redirectUri, 'https://exhibit.example.org/api/auth/oidc/callback');
  assert.is(oidc.clientSecret, undefined);
  assert.is(oidc.label, 'Sign in with single sign-on');
  assert.is(oidc.roleClaim, 'roles');
  assert.is(oidc.defaultRole, 'guest');
  assert.equal(
    [...oidc.roleMap],
    [
      ['exhibit-admins', 'administrator'],
      ['detectives', 'investigator'],
    ],
  );
});

config('needs OIDC_CLIENT_ID and PUBLIC_URL with OIDC_ISSUER, and names them', () => {
  const message = configError({ OIDC_ISSUER: 'https://login.example.org' });
  assert.match(message, 'OIDC_CLIENT_ID');
  assert.match(message, 'PUBLIC_URL');
});

config('refuses an issuer that is not a URL', () => {
  assert.match(
    configError({ OIDC_ISSUER: 'login.example.org' }),
    /OIDC_ISSUER="login.example.org": must be a URL/,
  );
});

config('refuses a plain-http issuer except on loopback', () => {
  assert.match(
    configError({
      OIDC_ISSUER: 'http://login.example.org',
      OIDC_CLIENT_ID: 'x',
      PUBLIC_URL: 'http://a.b',
    }),
    /OIDC_ISSUER=.*must be https/,
  );
  assert.ok(configFrom(oidcEnv('http://127.0.0.1:9999', 'http://127.0.0.1:8080')));
  assert.ok(configFrom(oidcEnv('http://localhost:9999', 'http://127.0.0.1:8080')));
});

config('refuses a role map naming a role that does not exist', () => {
  const message = configError({ OIDC_ROLE_MAP: 'detectives=investigator,chiefs=boss' });
  assert.match(message, /OIDC_ROLE_MAP=.*"boss" is not a role/);
});

config('refuses a role map entry without a role', () => {
  assert.match(configError({ OIDC_ROLE_MAP: 'detectives' }), /OIDC_ROLE_MAP=.*claim-value=role/);
});

config('refuses an unknown default role', () => {
  assert.match(
    configError({ OIDC_DEFAULT_ROLE: 'chief' }),
    /OIDC_DEFAULT_ROLE="chief": must be one of/,
  );
});

config.run();

// --- role mapping -------------------------------------------------------------------------

const roles = suite('roleFromClaims');
const mapping = configFrom(oidcEnv('https://login.example.org', 'https://exhibit.example.org'));

roles('gives the most powerful mapped role', () => {
  assert.is(roleFromClaims({ roles: ['detectives', 'exhibit-admins'] }, mapping), 'administrator');
});

roles('accepts a single string as the claim', () => {
  assert.is(roleFromClaims({ roles: 'detectives' }, mapping), 'investigator');
});

roles('reads a nested claim by dotted name', () => {
  const nested = { ...mapping, roleClaim: 'realm_access.roles' };
  assert.is(roleFromClaims({ realm_access: { roles: ['analysts'] } }, nested), 'analyst');
});

roles('falls back to the default role when nothing maps', () => {
  assert.is(roleFromClaims({ roles: ['unrelated', 42] }, mapping), 'guest');
  assert.is(roleFromClaims({}, { ...mapping, defaultRole: 'analyst' }), 'analyst');
});

roles.run();

// --- the flow against a real provider -------------------------------------------------------

interface World {
  dir: string;
  store: BlobStore;
  identity: Awaited<ReturnType<typeof testIdentity>>;
  provider: TestOidcProvider;
  blob: BlobServer;
  base: string;
}

async function world(options: { issuer?: string; port?: number } = {}): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), 'exhibit-oidc-'));
  const store = await createFsStore(join(dir, 'blobs'));
  const identity = await testIdentity();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const provider = await startOidcProvider({
    redirectUri: `${base}/api/auth/oidc/callback`,
    users: structuredClone(PEOPLE),
    ...(options.port ? { port: options.port } : {}),
  });
  const blob = await createBlobServer({
    store,
    maxUploadBytes: 1024,
    port,
    host: '127.0.0.1',
    log: quiet,
    auth: {
      service: identity.identity.service,
      cases: identity.identity.cases,
      refreshTtlMs: 3600_000,
    },
    sso: new SingleSignOn({
      config: configFrom(oidcEnv(options.issuer ?? provider.issuer, base)),
      auth: identity.identity.service,
      audit: identity.identity.audit,
    }),
  });
  return { dir, store, identity, provider, blob, base };
}

async function closeWorld(w: World): Promise<void> {
  await w.blob.close();
  await w.provider.close();
  await w.identity.close();
  await w.store.close();
  await rm(w.dir, { recursive: true, force: true });
}

/** Follows Exhibit's callback as the browser would; returns where it sent the browser. */
async function callback(url: string, cookies: string): Promise<Response> {
  return fetch(url, { redirect: 'manual', headers: { cookie: cookies } });
}

async function signIn(w: World, login: string): Promise<{ response: Response; user?: PublicUser }> {
  const { callbackUrl, exhibitCookies } = await signInAtProvider(
    w.provider,
    `${w.base}/api/auth/oidc/start`,
    login,
  );
  const response = await callback(callbackUrl, exhibitCookies);
  const refresh = response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0] ?? '')
    .find((pair) => pair.startsWith('exhibit_refresh='));
  if (!refresh) return { response };
  const session = await fetch(`${w.base}/api/auth/refresh`, {
    method: 'POST',
    headers: { cookie: refresh },
  });
  assert.is(session.status, 200, 'the refresh cookie from single sign-on works');
  return { response, user: ((await session.json()) as { user: PublicUser }).user };
}

function signInError(response: Response): string | null {
  assert.is(response.status, 303);
  const location = new URL(response.headers.get('location') ?? '', 'http://x');
  assert.is(location.pathname, '/');
  return location.searchParams.get('signin_error');
}

async function auditActions(w: World): Promise<string[]> {
  return (await w.identity.identity.audit.list({ limit: 1000 })).map((r) => r.action);
}

const flow = suite('single sign-on flow');
let w: World;
flow.before.each(async () => {
  w = await world();
});
flow.after.each(async () => {
  await closeWorld(w);
});

flow('tells the sign-in form it is on, with its label', async () => {
  const response = await fetch(`${w.base}/api/auth/oidc`);
  assert.equal(await response.json(), { enabled: true, label: 'Sign in with single sign-on' });
});

flow('sends the browser to the provider with PKCE, state and nonce', async () => {
  const response = await fetch(`${w.base}/api/auth/oidc/start`, { redirect: 'manual' });
  assert.is(response.status, 303);
  const location = new URL(response.headers.get('location') ?? '');
  assert.ok(location.href.startsWith(w.provider.issuer));
  assert.is(location.searchParams.get('code_challenge_method'), 'S256');
  assert.ok(location.searchParams.get('state'));
  assert.ok(location.searchParams.get('nonce'));
  assert.is(location.searchParams.get('redirect_uri'), `${w.base}/api/auth/oidc/callback`);
  const flowCookie = response.headers.getSetCookie().find((c) => c.startsWith('exhibit_oidc='));
  assert.match(flowCookie ?? '', /HttpOnly/);
  assert.match(flowCookie ?? '', /SameSite=Lax/);
});

flow('creates the account at first sign-in, with the role its group maps to', async () => {
  const { response, user } = await signIn(w, 'dana');
  assert.is(response.headers.get('location'), '/');
  assert.is(user?.email, 'dana@example.org');
  assert.is(user?.name, 'Dana Detective');
  assert.is(user?.role, 'investigator');
  const actions = await auditActions(w);
  assert.ok(actions.includes('user.created'));
  assert.ok(actions.includes('auth.login'));
});

flow('gives the most powerful mapped role', async () => {
  assert.is((await signIn(w, 'boss')).user?.role, 'administrator');
});

flow('gives the default role when no group maps', async () => {
  assert.is((await signIn(w, 'nobody')).user?.role, 'guest');
});

flow('maps the role again at each sign-in, and records the change', async () => {
  const first = await signIn(w, 'dana');
  assert.is(first.user?.role, 'investigator');
  (w.provider.users.get('dana') as ProviderUser).roles = [];
  const second = await signIn(w, 'dana');
  assert.is(second.user?.id, first.user?.id);
  assert.is(second.user?.role, 'guest');
  const changes = (await w.identity.identity.audit.list({ limit: 1000 })).filter(
    (r) => r.action === 'user.role_changed',
  );
  assert.is(changes.length, 1);
  assert.equal(changes[0]?.details?.['before'], 'investigator');
  assert.equal(changes[0]?.details?.['after'], 'guest');
});

flow('links to the local account with the same verified email', async () => {
  await w.identity.tokenFor('investigator', 'lee@example.org');
  const local = (
    await w.identity.identity.service.listUsers(
      await w.identity.identity.service.authenticate(w.identity.adminToken),
    )
  ).find((u) => u.email === 'lee@example.org');
  const { user } = await signIn(w, 'lee');
  assert.is(user?.id, local?.id);
  assert.is(user?.role, 'analyst');
  assert.ok((await auditActions(w)).includes('user.sso_linked'));
});

flow('refuses an email the provider did not verify', async () => {
  const { response, user } = await signIn(w, 'sneaky');
  assert.is(user, undefined);
  assert.match(signInError(response) ?? '', 'did not confirm an email');
  assert.ok((await auditActions(w)).includes('auth.sso_failed'));
});

flow('keeps a disabled local account disabled', async () => {
  await w.identity.tokenFor('investigator', 'dis@example.org');
  const service = w.identity.identity.service;
  const admin = await service.authenticate(w.identity.adminToken);
  const local = (await service.listUsers(admin)).find((u) => u.email === 'dis@example.org');
  await service.updateUser(admin, local?.id ?? '', { disabled: true }, { ip: '127.0.0.1' });
  const { response, user } = await signIn(w, 'dis');
  assert.is(user, undefined);
  assert.match(signInError(response) ?? '', 'disabled');
});

flow('refuses an answer whose state does not match', async () => {
  const { callbackUrl, exhibitCookies } = await signInAtProvider(
    w.provider,
    `${w.base}/api/auth/oidc/start`,
    'dana',
  );
  const tampered = new URL(callbackUrl);
  tampered.searchParams.set('state', 'not-the-state-we-sent');
  const response = await callback(tampered.href, exhibitCookies);
  assert.match(signInError(response) ?? '', 'not valid');
  assert.is(
    response.headers.getSetCookie().filter((c) => c.startsWith('exhibit_refresh')).length,
    0,
  );
  const failure = (await w.identity.identity.audit.list({ limit: 1000 })).find(
    (r) => r.action === 'auth.sso_failed',
  );
  assert.ok(failure);
});

flow('refuses an answer without a code', async () => {
  const { callbackUrl, exhibitCookies } = await signInAtProvider(
    w.provider,
    `${w.base}/api/auth/oidc/start`,
    'dana',
  );
  const tampered = new URL(callbackUrl);
  tampered.searchParams.delete('code');
  assert.match(signInError(await callback(tampered.href, exhibitCookies)) ?? '', 'not valid');
});

flow('refuses a callback in a browser that did not start the sign-in', async () => {
  const { callbackUrl } = await signInAtProvider(
    w.provider,
    `${w.base}/api/auth/oidc/start`,
    'dana',
  );
  assert.match(signInError(await callback(callbackUrl, '')) ?? '', 'not started in this browser');
});

flow('uses each started sign-in once', async () => {
  const { callbackUrl, exhibitCookies } = await signInAtProvider(
    w.provider,
    `${w.base}/api/auth/oidc/start`,
    'dana',
  );
  assert.is((await callback(callbackUrl, exhibitCookies)).headers.get('location'), '/');
  assert.match(signInError(await callback(callbackUrl, exhibitCookies)) ?? '', 'try again');
});

flow.run();

const provider = suite('single sign-on provider trouble');

provider('refuses a provider whose metadata names another issuer', async () => {
  const port = await freePort();
  // The provider calls itself 127.0.0.1; configured as localhost, its metadata does not match.
  const w = await world({ issuer: `http://localhost:${port}`, port });
  try {
    const response = await fetch(`${w.base}/api/auth/oidc/start`, { redirect: 'manual' });
    assert.match(signInError(response) ?? '', 'provider');
    const failure = (await w.identity.identity.audit.list({ limit: 1000 })).find(
      (r) => r.action === 'auth.sso_failed',
    );
    assert.match(String(failure?.details?.['error']), /issuer/i);
  } finally {
    await closeWorld(w);
  }
});

provider('starts without the provider and reaches it once it is up', async () => {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'exhibit-oidc-'));
  const store = await createFsStore(join(dir, 'blobs'));
  const identity = await testIdentity();
  const blobPort = await freePort();
  const base = `http://127.0.0.1:${blobPort}`;
  const blob = await createBlobServer({
    store,
    maxUploadBytes: 1024,
    port: blobPort,
    host: '127.0.0.1',
    log: quiet,
    auth: { service: identity.identity.service, cases: identity.identity.cases, refreshTtlMs: 1 },
    sso: new SingleSignOn({
      config: configFrom(oidcEnv(`http://127.0.0.1:${port}`, base)),
      auth: identity.identity.service,
      audit: identity.identity.audit,
    }),
  });
  const down = await fetch(`${base}/api/auth/oidc/start`, { redirect: 'manual' });
  assert.match(signInError(down) ?? '', 'cannot be reached');
  const idp = await startOidcProvider({
    redirectUri: `${base}/api/auth/oidc/callback`,
    users: PEOPLE,
    port,
  });
  try {
    const up = await fetch(`${base}/api/auth/oidc/start`, { redirect: 'manual' });
    assert.ok(up.headers.get('location')?.startsWith(idp.issuer));
  } finally {
    await blob.close();
    await idp.close();
    await identity.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

provider('reports single sign-on as off when it is not configured', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'exhibit-oidc-'));
  const store = await createFsStore(join(dir, 'blobs'));
  const identity = await testIdentity();
  const blob = await createBlobServer({
    store,
    maxUploadBytes: 1024,
    log: quiet,
    auth: { service: identity.identity.service, cases: identity.identity.cases, refreshTtlMs: 1 },
  });
  try {
    const base = `http://127.0.0.1:${blob.port}`;
    const info = (await (await fetch(`${base}/api/auth/oidc`)).json()) as { enabled: boolean };
    assert.is(info.enabled, false);
    const start = await fetch(`${base}/api/auth/oidc/start`, { redirect: 'manual' });
    assert.match(signInError(start) ?? '', 'not set up');
  } finally {
    await blob.close();
    await identity.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

provider.run();
