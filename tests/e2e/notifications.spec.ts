// Notifications in the app and by mail: a colleague on the case hears about new evidence.
import type { Page } from '@playwright/test';
import {
  testWithMail as test,
  addMember,
  expect,
  createAccount,
  createCase,
  setUpAdministrator,
  signInElsewhere,
  ANA,
  IVY,
  type ExhibitProcess,
} from './fixtures.ts';

/** An administrator sets up Ivy and Ana; Ivy opens a case and shares it with Ana. */
async function ivySharesCaseWithAna(page: Page, exhibit: ExhibitProcess, title: string) {
  await setUpAdministrator(page, exhibit);
  await createAccount(exhibit, IVY, 'investigator');
  await createAccount(exhibit, ANA, 'analyst');
  const ivyPage = await signInElsewhere(page.context().browser()!, exhibit.url, IVY);
  const caseId = await createCase(ivyPage, { title });
  await addMember(ivyPage, ANA);
  return { ivyPage, caseId };
}

function bell(page: Page) {
  return page.getByTestId('notification-bell');
}

test('a colleague on the case is told about new evidence in the app and by mail', async ({
  page,
  browser,
  exhibit,
  smtp,
}) => {
  const { ivyPage, caseId } = await ivySharesCaseWithAna(page, exhibit, 'Burglary, Mill Lane');

  const anaPage = await signInElsewhere(browser, exhibit.url, ANA);
  await expect(bell(anaPage)).toHaveAccessibleName('Notifications');
  await expect(anaPage.getByTestId('notification-count')).toHaveCount(0);

  await ivyPage.getByTestId('file-input').setInputFiles({
    name: 'statement.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from('Witness statement, taken at the scene.\n'),
  });
  await expect(
    ivyPage
      .getByTestId('evidence-item')
      .filter({ hasText: 'statement.txt' })
      .getByTestId('evidence-state'),
  ).toHaveText('verified', { timeout: 20_000 });

  // Ana comes back to her window: the app asks at once rather than at the next 30 s poll.
  await anaPage.evaluate(() => window.dispatchEvent(new Event('focus')));
  await expect(anaPage.getByTestId('notification-count')).toHaveText('1');
  await expect(bell(anaPage)).toHaveAccessibleName('Notifications, 1 unread');

  // The uploader is not told about their own upload.
  await ivyPage.evaluate(() => window.dispatchEvent(new Event('focus')));
  await expect(ivyPage.getByTestId('notification-count')).toHaveCount(0);

  // Keyboard: open the panel, follow the link into the case.
  await bell(anaPage).focus();
  await anaPage.keyboard.press('Enter');
  const panel = anaPage.getByRole('region', { name: 'Notifications' });
  await expect(panel).toBeVisible();
  const item = panel.getByTestId('notification');
  await expect(item).toHaveCount(1);
  await expect(item).toContainText('New evidence: statement.txt');
  await expect(item).toContainText(`${IVY.name} added statement.txt`);
  await expect(item.locator('time')).toHaveText(/now|second|minute/);
  const link = item.getByRole('link', { name: 'New evidence: statement.txt' });
  await expect(link).toHaveAttribute('href', `/cases/${caseId}`);
  await anaPage.keyboard.press('Escape');
  await expect(panel).toBeHidden();
  await expect(bell(anaPage)).toBeFocused();

  await bell(anaPage).click();
  await link.click();
  await anaPage.waitForURL(`**/cases/${caseId}`);
  await expect(anaPage.getByRole('heading', { level: 1 })).toHaveText('Burglary, Mill Lane');
  await expect(anaPage.getByTestId('notification-count')).toHaveCount(0);
  await expect(panel).toBeHidden();

  // And by mail, with an absolute link to the same case.
  const mail = await smtp.waitFor((m) => m.to.includes(ANA.email));
  expect(mail.subject).toBe('New evidence: statement.txt');
  expect(mail.from).toBe('exhibit@example.org');
  expect(mail.links).toEqual([`${exhibit.url}/cases/${caseId}`]);
  expect(smtp.messages.flatMap((m) => m.to)).not.toContain(IVY.email);
});

test('mark one and all read from the panel', async ({ page, browser, exhibit }) => {
  const { ivyPage } = await ivySharesCaseWithAna(page, exhibit, 'Fraud at the depot');
  for (const name of ['one.txt', 'two.txt', 'three.txt']) {
    await ivyPage.getByTestId('file-input').setInputFiles({
      name,
      mimeType: 'text/plain',
      buffer: Buffer.from(`contents of ${name}\n`),
    });
    await expect(
      ivyPage.getByTestId('evidence-item').filter({ hasText: name }).getByTestId('evidence-state'),
    ).toHaveText('verified', { timeout: 20_000 });
  }

  const anaPage = await signInElsewhere(browser, exhibit.url, ANA);
  await expect(anaPage.getByTestId('notification-count')).toHaveText('3');
  await bell(anaPage).click();
  const panel = anaPage.getByRole('region', { name: 'Notifications' });
  await expect(panel.getByTestId('notification')).toHaveCount(3);
  await expect(panel.getByTestId('notification').first()).toContainText('three.txt');
  await panel.getByRole('button', { name: 'Mark “New evidence: two.txt” read' }).click();
  await expect(anaPage.getByTestId('notification-count')).toHaveText('2');
  await panel.getByRole('button', { name: 'Mark all read' }).click();
  await expect(anaPage.getByTestId('notification-count')).toHaveCount(0);
  await expect(panel.getByRole('button', { name: 'Mark all read' })).toBeDisabled();

  // Read state is the server's: a reload shows the same.
  await anaPage.reload();
  await expect(bell(anaPage)).toHaveAccessibleName('Notifications');
  await expect(anaPage.getByTestId('notification-count')).toHaveCount(0);
});
