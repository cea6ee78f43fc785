import {
  test,
  expect,
  createAccount,
  createCase,
  setUpAdministrator,
  signIn,
  signInElsewhere,
  waitForOfflineReady,
  ADMIN,
} from './fixtures.ts';

const IVY = {
  name: 'Ivy Investigator',
  email: 'ivy@example.org',
  password: 'another long passphrase',
};

test('a wrong password gets a clear message and no access', async ({ page, browser, exhibit }) => {
  await setUpAdministrator(page, exhibit);
  const other = await (await browser.newContext()).newPage();
  await other.goto(exhibit.url);
  await other.getByLabel('Email').fill(ADMIN.email);
  await other.getByLabel('Password').fill('not my password at all');
  await other.getByRole('button', { name: 'Sign in' }).click();
  await expect(other.getByRole('alert')).toHaveText('The email or password is not right.');
  await expect(other.getByRole('heading', { name: 'Cases' })).toHaveCount(0);
  const blob = await other.request.get(`${exhibit.url}/api/blobs/${'0'.repeat(64)}`);
  expect(blob.status()).toBe(401);
});

test('signing out ends the session, and the next person on the device sees none of it', async ({
  page,
  exhibit,
}) => {
  await setUpAdministrator(page, exhibit);
  await waitForOfflineReady(page);
  await createAccount(exhibit, IVY, 'investigator');
  await exhibit.kill('SIGKILL');
  await createCase(page, { title: 'Only on the administrator’s device' });
  await expect(page.getByTestId('doc-state')).toContainText('Saved on this device');
  await exhibit.start();
  const access = (await page.context().cookies()).find((c) => c.name === 'exhibit_access');
  expect(access).toBeDefined();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in to Exhibit' })).toBeVisible();
  // The ended session opens nothing, even for someone who kept a copy of its cookie.
  const replay = await page.request.get(`/api/blobs/${'0'.repeat(64)}`, {
    headers: { cookie: `exhibit_access=${access?.value}` },
  });
  expect(replay.status()).toBe(401);

  await signIn(page, exhibit.url, IVY);
  await expect(page.getByText('Ivy Investigator')).toBeVisible();
  await expect(page.getByText('Only on the administrator’s device')).toHaveCount(0);
});

test('an external guest signs in but can open no case', async ({ page, browser, exhibit }) => {
  await setUpAdministrator(page, exhibit);
  const id = await createCase(page, { title: 'Staff only' });
  await expect(page.getByTestId('doc-state')).toHaveText('Saved on server');
  const guest = { name: 'Gus Guest', email: 'gus@example.org', password: 'guest passphrase 123' };
  await createAccount(exhibit, guest, 'guest');
  const other = await signInElsewhere(browser, exhibit.url, guest);
  await expect(other.getByText('Staff only')).toHaveCount(0);
  await other.goto(`${exhibit.url}/cases/${id}`);
  await expect(other.getByRole('alert')).toContainText('no access');
});
