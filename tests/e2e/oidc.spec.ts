import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { freePort } from '../helpers/net.ts';
import {
  startOidcProvider,
  type ProviderUser,
  type TestOidcProvider,
} from '../helpers/oidc-provider.ts';
import { test as base, expect, ExhibitProcess } from './fixtures.ts';

const PEOPLE: Record<string, ProviderUser> = {
  dana: {
    email: 'dana@example.org',
    email_verified: true,
    name: 'Dana Detective',
    roles: ['detectives'],
  },
  nora: { email: 'nora@example.org', email_verified: true, name: 'Nora Nogroup', roles: [] },
  una: { email: 'una@example.org', email_verified: false, name: 'Una Unverified', roles: [] },
};

/**
 * Each test gets a real OpenID Connect provider and an Exhibit server configured for it, as an
 * operator would set one up: issuer, client, redirect URI from PUBLIC_URL, and a role map.
 */
const test = base.extend<{ idp: { provider: TestOidcProvider; port: number } }>({
  // eslint-disable-next-line no-empty-pattern
  idp: async ({}, use) => {
    const port = await freePort();
    const provider = await startOidcProvider({
      redirectUri: `http://127.0.0.1:${port}/api/auth/oidc/callback`,
      users: structuredClone(PEOPLE),
    });
    await use({ provider, port });
    await provider.close();
  },
  exhibit: async ({ idp }, use, testInfo) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'exhibit-e2e-oidc-'));
    const server = new ExhibitProcess(idp.port, dataDir, {
      PUBLIC_URL: `http://127.0.0.1:${idp.port}`,
      OIDC_ISSUER: idp.provider.issuer,
      OIDC_CLIENT_ID: idp.provider.clientId,
      OIDC_CLIENT_SECRET: idp.provider.clientSecret,
      OIDC_ROLE_MAP: 'exhibit-admins=administrator,detectives=investigator',
    });
    await server.start();
    await use(server);
    await server.kill('SIGTERM');
    if (testInfo.status !== testInfo.expectedStatus) {
      await testInfo.attach('server-log', { body: server.log, contentType: 'text/plain' });
    }
    await rm(dataDir, { recursive: true, force: true });
  },
});

/** From Exhibit's sign-in form through the provider's login page. */
async function signInWithSso(page: Page, login: string): Promise<void> {
  await page.getByRole('button', { name: 'Sign in with single sign-on' }).click();
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password at the provider');
  await page.getByRole('button', { name: 'Sign-in' }).click();
}

function userMenu(page: Page) {
  return page.getByRole('banner');
}

test('a detective signs in with single sign-on and works as an investigator', async ({
  page,
  exhibit,
}) => {
  await page.goto(exhibit.url);
  await expect(page.getByRole('heading', { name: 'Sign in to Exhibit' })).toBeVisible();
  await signInWithSso(page, 'dana');
  await expect(page.getByRole('heading', { name: 'Cases' })).toBeVisible();
  expect(new URL(page.url()).pathname).toBe('/');
  await expect(userMenu(page).getByText('Dana Detective')).toBeVisible();
  await expect(userMenu(page).getByText('Investigator', { exact: true })).toBeVisible();
  // The same session cookies as a password sign-in, so a reload keeps the person signed in.
  await page.reload();
  await expect(userMenu(page).getByText('Investigator', { exact: true })).toBeVisible();
});

test('the next sign-in applies the groups the provider has now', async ({ page, exhibit, idp }) => {
  (idp.provider.users.get('dana') as ProviderUser).roles = ['detectives', 'exhibit-admins'];
  await page.goto(exhibit.url);
  await signInWithSso(page, 'dana');
  await expect(userMenu(page).getByText('Administrator', { exact: true })).toBeVisible();

  // Taken out of the administrators' group at the provider.
  (idp.provider.users.get('dana') as ProviderUser).roles = ['detectives'];
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in to Exhibit' })).toBeVisible();
  // Still signed in at the provider, which sends the browser straight back.
  await page.getByRole('button', { name: 'Sign in with single sign-on' }).click();
  await expect(page.getByRole('heading', { name: 'Cases' })).toBeVisible();
  await expect(userMenu(page).getByText('Investigator', { exact: true })).toBeVisible();
  await expect(userMenu(page).getByRole('link', { name: 'Users' })).toHaveCount(0);
});

test('someone in no mapped group gets the default role', async ({ page, exhibit }) => {
  await page.goto(exhibit.url);
  await signInWithSso(page, 'nora');
  await expect(userMenu(page).getByText('Nora Nogroup')).toBeVisible();
  await expect(userMenu(page).getByText('External guest', { exact: true })).toBeVisible();
});

test('a refused single sign-on says why on the sign-in form', async ({ page, exhibit }) => {
  await page.goto(exhibit.url);
  await signInWithSso(page, 'una');
  await expect(page.getByRole('alert')).toHaveText(
    'Single sign-on failed: the provider did not confirm an email address for this account.',
  );
  await expect(page.getByRole('heading', { name: 'Cases' })).toHaveCount(0);
  expect(new URL(page.url()).search).toBe('');
});
