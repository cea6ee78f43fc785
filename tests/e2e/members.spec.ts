import {
  test,
  expect,
  createAccount,
  createCase,
  setUpAdministrator,
  signInElsewhere,
  ANA,
  IVY,
} from './fixtures.ts';

test('a case manager shares a case with a colleague, who sees it live, and takes it back', async ({
  page,
  browser,
  exhibit,
}) => {
  await setUpAdministrator(page, exhibit);
  await createAccount(exhibit, IVY, 'investigator');
  await createAccount(exhibit, ANA, 'analyst');

  const ivyPage = await signInElsewhere(browser, exhibit.url, IVY);
  await createCase(ivyPage, { title: 'Fraud ring, Dock Street' });
  await expect(ivyPage.getByTestId('doc-state')).toHaveText('Saved on server');

  const anaPage = await signInElsewhere(browser, exhibit.url, ANA);
  await expect(anaPage.getByText('No cases yet.')).toBeVisible();

  const members = ivyPage.getByRole('region', { name: 'Members' });
  await expect(members).toContainText('Ivy Investigator');
  await members.getByLabel('Email').fill(ANA.email);
  await members.getByLabel('Level', { exact: true }).selectOption('contribute');
  await members.getByRole('button', { name: 'Add member' }).click();
  await expect(members).toContainText('Ana Analyst');

  const shared = anaPage.getByRole('link', { name: 'Fraud ring, Dock Street' });
  await expect(shared).toBeVisible();
  await shared.click();
  await expect(anaPage.getByRole('heading', { level: 1 })).toHaveText('Fraud ring, Dock Street');

  await members.getByRole('button', { name: 'Remove Ana Analyst' }).click();
  await expect(members).not.toContainText('Ana Analyst');
  await expect(anaPage.getByRole('alert')).toContainText('no access', { timeout: 15_000 });
  await anaPage
    .getByRole('link', { name: 'Back to all cases' })
    .click()
    .catch(() => undefined);
  await anaPage.goto(exhibit.url);
  await expect(anaPage.getByRole('link', { name: 'Fraud ring, Dock Street' })).toHaveCount(0);
});

test('someone who does not manage the case sees its members but cannot change them', async ({
  page,
  browser,
  exhibit,
}) => {
  await setUpAdministrator(page, exhibit);
  await createAccount(exhibit, IVY, 'investigator');
  await createAccount(exhibit, ANA, 'analyst');
  const ivyPage = await signInElsewhere(browser, exhibit.url, IVY);
  await createCase(ivyPage, { title: 'Shared read-only' });
  const members = ivyPage.getByRole('region', { name: 'Members' });
  await members.getByLabel('Email').fill(ANA.email);
  await members.getByLabel('Level', { exact: true }).selectOption('view');
  await members.getByRole('button', { name: 'Add member' }).click();
  await expect(members).toContainText('Ana Analyst');

  const anaPage = await signInElsewhere(browser, exhibit.url, ANA);
  await anaPage.getByRole('link', { name: 'Shared read-only' }).click();
  const seen = anaPage.getByRole('region', { name: 'Members' });
  await expect(seen).toContainText('Ivy Investigator');
  await expect(seen.getByRole('button', { name: 'Add member' })).toHaveCount(0);
});
