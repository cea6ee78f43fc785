import { devices, type Locator, type Page } from '@playwright/test';
import {
  test,
  expect,
  accessTokenOf,
  createAccount,
  setUpAdministrator,
  signIn,
  signInElsewhere,
  ADMIN,
  type Person,
} from './fixtures.ts';

const IVY: Person = {
  name: 'Ivy Investigator',
  email: 'ivy@example.org',
  password: 'temporary passphrase from ada',
};
const IVY_OWN_PASSWORD = 'only ivy knows these words';

/** The table row (wide screens) of one user, found by the name in its row header. */
function userRow(page: Page, name: string): Locator {
  return page.getByRole('row').filter({ has: page.getByRole('rowheader', { name }) });
}

async function openUsers(page: Page): Promise<void> {
  await page.getByRole('link', { name: 'Users' }).click();
  await expect(page.getByRole('heading', { name: 'Users', level: 1 })).toBeVisible();
}

async function addUser(page: Page, who: Person, roleLabel: string): Promise<void> {
  await page.getByRole('button', { name: 'New user' }).click();
  const form = page.getByRole('form', { name: 'New user' });
  await form.getByLabel('Name').fill(who.name);
  await form.getByLabel('Email').fill(who.email);
  await form.getByLabel('Role').selectOption({ label: roleLabel });
  await form.getByLabel('Temporary password').fill(who.password);
  await form.getByRole('button', { name: 'Add user' }).click();
  await expect(page.getByRole('status').filter({ hasText: `${who.name} was added` })).toBeVisible();
}

test('an administrator adds an investigator, who must choose a password, then disables them', async ({
  page,
  browser,
  exhibit,
}) => {
  await setUpAdministrator(page, exhibit);
  await openUsers(page);
  await addUser(page, IVY, 'Investigator');
  await expect(page.getByRole('button', { name: 'New user' })).toBeFocused();
  const row = userRow(page, IVY.name);
  await expect(row).toContainText(IVY.email);
  await expect(row).toContainText('Active');
  await expect(row).toContainText('Must change password');
  await expect(row.getByLabel(`Role for ${IVY.name}`)).toHaveValue('investigator');

  // Ivy signs in on her own device with the temporary password and must replace it first.
  const ivy = await (await browser.newContext()).newPage();
  await ivy.goto(exhibit.url);
  await ivy.getByLabel('Email').fill(IVY.email);
  await ivy.getByLabel('Password').fill(IVY.password);
  await ivy.getByRole('button', { name: 'Sign in' }).click();
  await expect(ivy.getByRole('heading', { name: 'Choose your own password' })).toBeVisible();
  await expect(ivy.getByText('An administrator set a temporary password')).toBeVisible();
  await expect(ivy.getByRole('heading', { name: 'Cases' })).toHaveCount(0);
  await ivy.getByLabel('Temporary password').fill(IVY.password);
  await ivy.getByLabel('New password', { exact: true }).fill(IVY_OWN_PASSWORD);
  await ivy.getByLabel('New password again').fill(IVY_OWN_PASSWORD);
  await ivy.getByRole('button', { name: 'Change password' }).click();
  await expect(ivy.getByRole('heading', { name: 'Cases' })).toBeVisible();
  await ivy.reload();
  await expect(ivy.getByRole('heading', { name: 'Cases' })).toBeVisible();

  await page.reload();
  await expect(row).toContainText('Active');
  await expect(row).not.toContainText('Must change password');
  await row.getByRole('button', { name: `Disable ${IVY.name}` }).click();
  await expect(row).toContainText('Disabled');
  await expect(row.getByRole('button', { name: `Enable ${IVY.name}` })).toBeFocused();

  // The server ended Ivy's sessions at once: her next start cannot renew and asks her to sign in.
  await ivy.reload();
  await expect(ivy.getByRole('heading', { name: 'Sign in to Exhibit' })).toBeVisible();
  await ivy.getByLabel('Email').fill(IVY.email);
  await ivy.getByLabel('Password').fill(IVY_OWN_PASSWORD);
  await ivy.getByRole('button', { name: 'Sign in' }).click();
  await expect(ivy.getByRole('alert')).toHaveText('The email or password is not right.');
});

test('demoting the last administrator shows why the server refused', async ({ page, exhibit }) => {
  await setUpAdministrator(page, exhibit);
  await page.goto('/admin/users');
  const row = userRow(page, ADMIN.name);
  const role = row.getByLabel(`Role for ${ADMIN.name}`);
  await expect(role).toHaveValue('administrator');

  // By keyboard: arrow to another role, tab to Save, press Enter.
  await role.focus();
  await page.keyboard.press('ArrowDown');
  await expect(role).toHaveValue('supervisor');
  await expect(page.getByText('Changing your own role signs you out.')).toBeVisible();
  await page.keyboard.press('Tab');
  await expect(row.getByRole('button', { name: `Save role for ${ADMIN.name}` })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('alert')).toHaveText(
    'This is the last active administrator; make someone else one first.',
  );

  await page.reload();
  await expect(userRow(page, ADMIN.name).getByLabel(`Role for ${ADMIN.name}`)).toHaveValue(
    'administrator',
  );
});

test('someone who is not an administrator is told the user list is not for them', async ({
  page,
  browser,
  exhibit,
}) => {
  await setUpAdministrator(page, exhibit);
  const ann = { name: 'Ann Analyst', email: 'ann@example.org', password: 'analyst passphrase 1' };
  await createAccount(exhibit, ann, 'analyst');
  const other = await signInElsewhere(browser, exhibit.url, ann);
  await expect(other.getByRole('link', { name: 'Account' })).toBeVisible();
  await expect(other.getByRole('link', { name: 'Users' })).toHaveCount(0);

  await other.goto(`${exhibit.url}/admin/users`);
  await expect(other.getByRole('alert')).toContainText('Only administrators can manage users.');
  await expect(other.getByRole('table')).toHaveCount(0);
  // The page only explains; the server is what refuses.
  const listed = await fetch(`${exhibit.url}/api/admin/users`, {
    headers: { authorization: `Bearer ${await accessTokenOf(exhibit, ann)}` },
  });
  expect(listed.status).toBe(403);
});

test('anyone changes their own password from the account page', async ({ page, exhibit }) => {
  await setUpAdministrator(page, exhibit);
  await page.getByRole('link', { name: 'Account' }).click();
  await expect(page.getByRole('heading', { name: 'Your account' })).toBeVisible();
  const newPassword = 'a different staple for ada';

  await page.getByLabel('Current password').fill('not the password at all');
  await page.getByLabel('New password', { exact: true }).fill(newPassword);
  await page.getByLabel('New password again').fill(newPassword);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('alert')).toHaveText('The current password is not right.');

  await page.getByLabel('Current password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByText('Your password has been changed.')).toBeVisible();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, exhibit.url, { ...ADMIN, password: newPassword });
});

test.describe('on a phone', () => {
  const { defaultBrowserType: _, ...pixel7 } = devices['Pixel 7'];
  test.use(pixel7);

  test('the user list fits the screen and works by touch', async ({ page, exhibit }) => {
    await setUpAdministrator(page, exhibit);
    const long: Person = {
      name: 'Maximiliana Featherstonehaugh-Cholmondeley',
      email: 'maximiliana.featherstonehaugh-cholmondeley@regional-crime-unit.example.org',
      password: 'temporary for maximiliana',
    };
    await createAccount(exhibit, long, 'analyst', { temporary: true });
    await page.getByRole('link', { name: 'Users' }).tap();
    const list = page.getByRole('list', { name: 'Users' });
    await expect(list.getByRole('listitem')).toHaveCount(2);
    await expect(page.getByRole('table')).toHaveCount(0);
    const card = list.getByRole('listitem').filter({ hasText: long.name });
    await expect(card).toContainText('Must change password');
    await expect(card.getByLabel(`Role for ${long.name}`)).toHaveValue('analyst');

    await card.getByRole('button', { name: `Reset password for ${long.name}` }).tap();
    await card.getByLabel(`New temporary password for ${long.name}`).fill('another temporary one');
    await card.getByRole('button', { name: 'Set temporary password' }).tap();
    await expect(card.getByRole('status')).toContainText('must choose a new password');

    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
  });
});
