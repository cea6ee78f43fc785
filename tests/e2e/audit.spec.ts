// The administrators' audit screen: what happened, filtered, exported, and checked for tampering.
import { readFile } from 'node:fs/promises';
import {
  test,
  expect,
  accessTokenOf,
  createAccount,
  createCase,
  setUpAdministrator,
  signInElsewhere,
  IVY,
} from './fixtures.ts';

test('an administrator reads, filters, checks and exports the audit trail', async ({
  page,
  exhibit,
}) => {
  await setUpAdministrator(page, exhibit);
  await createCase(page, { title: 'Fraud, Harbour Street' });
  await page.getByTestId('file-input').setInputFiles({
    name: 'invoice.pdf',
    mimeType: 'application/pdf',
    buffer: Buffer.from('%PDF-1.4 not really a pdf'),
  });
  await expect(
    page
      .getByTestId('evidence-item')
      .filter({ hasText: 'invoice.pdf' })
      .getByTestId('evidence-state'),
  ).toHaveText('verified', { timeout: 20_000 });

  await page.getByRole('link', { name: 'Audit' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Audit trail');
  const entries = page.getByTestId('audit-entry');
  await expect(entries.filter({ hasText: 'setup.administrator_created' })).toHaveCount(1);
  await expect(entries.filter({ hasText: 'evidence.stored' })).toHaveCount(1);
  // Newest first.
  await expect(entries.first()).not.toContainText('setup.administrator_created');

  await page.getByLabel('What').selectOption('evidence');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(entries.filter({ hasText: 'case.created' })).toHaveCount(0);
  await expect(entries.filter({ hasText: 'evidence.upload_started' })).toHaveCount(1);
  for (const text of await entries.locator('.action').allInnerTexts()) {
    expect(text).toMatch(/^evidence\./);
  }

  await page.getByRole('button', { name: 'Check the trail' }).click();
  await expect(page.getByTestId('audit-check')).toContainText(/Intact: \d+ entries/);

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Export CSV' }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^exhibit-audit-.*\.csv$/);
  const csv = await readFile((await download.path())!, 'utf8');
  const lines = csv.trim().split('\r\n');
  expect(lines[0]).toBe('seq,time,action,actor_user,actor_email,target,ip,user_agent,details,hash');
  expect(lines.length).toBeGreaterThan(2);
  expect(lines.slice(1).every((line) => line.split(',')[2]?.startsWith('evidence.'))).toBe(true);

  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: test.info().outputPath('audit-phone.png'), fullPage: true });
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow, 'no sideways scrolling on a phone').toBeLessThanOrEqual(0);
});

test('an investigator is told the audit trail is for administrators, and the API agrees', async ({
  page,
  browser,
  exhibit,
}) => {
  await setUpAdministrator(page, exhibit);
  await createAccount(exhibit, IVY, 'investigator');
  const ivy = await signInElsewhere(browser, exhibit.url, IVY);
  await expect(ivy.getByRole('link', { name: 'Audit' })).toHaveCount(0);
  await ivy.goto(`${exhibit.url}/admin/audit`);
  await expect(ivy.getByRole('alert')).toContainText(
    'Only administrators can read the audit trail',
  );
  const token = await accessTokenOf(exhibit, IVY);
  for (const path of ['verify', 'entries', 'entries.csv']) {
    const response = await fetch(`${exhibit.url}/api/admin/audit/${path}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status, path).toBe(403);
  }
});
