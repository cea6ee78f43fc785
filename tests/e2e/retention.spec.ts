// Retention in the PWA against the real server: an administrator's evidence categories, a
// legal hold that refuses deletion, and the recycle bin with restore.
import { randomBytes } from 'node:crypto';
import type { Page } from '@playwright/test';
import { test, expect, createCase, setUpAdministrator } from './fixtures.ts';

function evidenceItem(page: Page, name: string) {
  return page.getByTestId('evidence-item').filter({ hasText: name });
}

async function addCategory(page: Page, name: string, days: number | 'indefinitely') {
  const form = page.getByRole('region', { name: 'New category' });
  await form.getByLabel('Name').fill(name);
  if (days === 'indefinitely') {
    await form.getByRole('radio', { name: 'indefinitely' }).check();
  } else {
    await form.getByLabel('Days to keep').fill(String(days));
  }
  await form.getByRole('button', { name: 'Add category' }).click();
  await expect(page.getByTestId('category').filter({ hasText: name })).toBeVisible();
}

test('categories, a legal hold that refuses deletion, and the recycle bin', async ({
  page,
  exhibit,
}) => {
  await setUpAdministrator(page, exhibit);
  await page
    .getByRole('navigation', { name: 'Account' })
    .getByRole('link', { name: 'Categories' })
    .click();
  await expect(page.getByRole('heading', { name: 'Evidence categories' })).toBeVisible();
  await expect(page.getByText(/Evidence without a category is kept indefinitely/)).toBeVisible();
  await addCategory(page, 'Homicide', 'indefinitely');
  await addCategory(page, 'Duplicate upload', 0);
  await expect(page.getByTestId('category').filter({ hasText: 'Homicide' })).toContainText(
    'Kept indefinitely',
  );

  await page.goto('/');
  await createCase(page, { title: 'Warehouse break-in' });
  await page.getByTestId('file-input').setInputFiles({
    name: 'cctv-still.bin',
    mimeType: 'application/octet-stream',
    buffer: randomBytes(2048),
  });
  const item = evidenceItem(page, 'cctv-still.bin');
  await expect(item.getByTestId('evidence-state')).toHaveText('verified', { timeout: 20_000 });
  await expect(item.getByTestId('evidence-keep-until')).toHaveText('Kept indefinitely');

  // Without a category it is kept indefinitely: the server refuses and says so.
  await item.getByRole('button', { name: 'Delete cctv-still.bin' }).click();
  await item.getByLabel('Why is cctv-still.bin deleted?').fill('uploaded twice');
  await item.getByRole('button', { name: 'Move to recycle bin' }).click();
  await expect(
    page.getByRole('alert').filter({ hasText: /must be kept indefinitely/ }),
  ).toBeVisible();
  await page.getByRole('alert').getByRole('button', { name: 'Dismiss' }).click();
  await item.getByRole('button', { name: 'Cancel' }).click();

  await item
    .getByLabel('Category of cctv-still.bin')
    .selectOption({ label: 'Duplicate upload · keep 0 days (no minimum)' });
  await expect(item.getByTestId('evidence-keep-until')).toContainText('Kept until');

  // A legal hold refuses every deletion, with its reason.
  await page.getByRole('button', { name: 'Place legal hold…' }).click();
  await page
    .getByLabel('Why is this case placed on legal hold?')
    .fill('Preservation letter 2026-114');
  await page.getByRole('button', { name: 'Place hold' }).click();
  const banner = page.getByTestId('legal-hold-banner');
  await expect(banner).toContainText('Preservation letter 2026-114');
  await expect(banner).toContainText('Ada Admin');

  await item.getByRole('button', { name: 'Delete cctv-still.bin' }).click();
  await item.getByLabel('Why is cctv-still.bin deleted?').fill('uploaded twice');
  await item.getByRole('button', { name: 'Move to recycle bin' }).click();
  await expect(
    page.getByRole('alert').filter({ hasText: /under legal hold.*Preservation letter 2026-114/ }),
  ).toBeVisible();
  await page.getByRole('alert').getByRole('button', { name: 'Dismiss' }).click();
  await expect(item).toBeVisible();
  await item.getByRole('button', { name: 'Cancel' }).click();

  await page.getByRole('button', { name: 'Release legal hold…' }).click();
  await page.getByLabel('Why is the hold released?').fill('Matter settled');
  await page.getByRole('button', { name: 'Release hold' }).click();
  await expect(banner).toHaveCount(0);

  // Now it may go to the recycle bin, and come back from it.
  await item.getByRole('button', { name: 'Delete cctv-still.bin' }).click();
  await item.getByLabel('Why is cctv-still.bin deleted?').fill('uploaded twice');
  await item.getByRole('button', { name: 'Move to recycle bin' }).click();
  await expect(item).toHaveCount(0);
  await expect(page.getByTestId('recycle-bin-count')).toHaveText('1');
  await page.getByRole('button', { name: /Recycle bin/ }).click();
  const deleted = page.getByTestId('recycle-bin-item');
  await expect(deleted).toContainText('cctv-still.bin');
  await expect(deleted).toContainText('Deleted by Ada Admin');
  await expect(deleted).toContainText('uploaded twice');
  await deleted.getByRole('button', { name: 'Restore cctv-still.bin' }).click();
  await expect(deleted).toHaveCount(0);
  await expect(evidenceItem(page, 'cctv-still.bin').getByTestId('evidence-state')).toHaveText(
    'verified',
  );
  await expect(page.getByTestId('recycle-bin-count')).toHaveText('0');
});
