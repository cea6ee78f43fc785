import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { devices } from '@playwright/test';
import {
  test,
  expect,
  createCase,
  setUpAdministrator,
  signIn,
  waitForOfflineReady,
} from './fixtures.ts';
import { fixturePath } from '../helpers/fixtures.ts';

const FIXTURE = fixturePath('astronaut.png');

test('a case created with the server down survives an offline reload and syncs when the server returns', async ({
  page,
  browser,
  exhibit,
}) => {
  await setUpAdministrator(page, exhibit);
  await waitForOfflineReady(page);

  // A colleague already has the case list open in another browser.
  const colleague = await browser.newContext();
  const other = await colleague.newPage();
  await signIn(other, exhibit.url);
  await expect(other.getByTestId('sync-status')).toHaveText('All changes saved');

  await exhibit.kill('SIGKILL');
  await page.context().setOffline(true);
  await createCase(page, {
    title: 'Burglary at 12 High Street',
    description: 'Rear window forced between 02:00 and 04:00.',
    tags: 'burglary, Night Shift',
  });
  await expect(page.getByTestId('doc-state')).toContainText('Saved on this device');

  await page.reload();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Burglary at 12 High Street');
  await expect(page.getByText('Rear window forced between 02:00 and 04:00.')).toBeVisible();
  await page.getByRole('link', { name: '← All cases' }).click();
  const item = page.getByRole('listitem').filter({ hasText: 'Burglary at 12 High Street' });
  await expect(item).toContainText('on this device only');
  await expect(item).toContainText('night-shift');
  await expect(page.getByTestId('sync-status')).toContainText('Offline');

  await exhibit.start();
  await page.context().setOffline(false);
  await expect(page.getByTestId('sync-status')).toHaveText('All changes saved', {
    timeout: 20_000,
  });
  await expect(item).not.toContainText('on this device only');
  await expect(other.getByRole('link', { name: 'Burglary at 12 High Street' })).toBeVisible();
  await colleague.close();
});

test('nothing the server acknowledged is lost when it is killed', async ({
  page,
  browser,
  exhibit,
}) => {
  await setUpAdministrator(page, exhibit);
  await createCase(page, { title: 'Assault outside the Crown', tags: 'assault' });
  await page.getByLabel('Status').selectOption('under-review');
  await expect(page.getByTestId('doc-state')).toHaveText('Saved on server');

  await exhibit.kill('SIGKILL');
  await exhibit.start();

  const fresh = await browser.newContext();
  const reader = await fresh.newPage();
  await signIn(reader, exhibit.url);
  await reader.getByRole('link', { name: 'Assault outside the Crown' }).click();
  await expect(reader.getByLabel('Status')).toHaveValue('under-review');
  await expect(reader.getByLabel('Tags')).toContainText('assault');
  await fresh.close();
});

test('a second browser sees changes to an open case live', async ({ page, browser, exhibit }) => {
  await setUpAdministrator(page, exhibit);
  const id = await createCase(page, { title: 'Fraud at the depot' });
  const second = await browser.newContext();
  const other = await second.newPage();
  await signIn(other, exhibit.url);
  await other.goto(`${exhibit.url}/cases/${id}`);
  await expect(other.getByRole('heading', { level: 1 })).toHaveText('Fraud at the depot');
  // The workflow moves one step at a time: open → under review.
  await page.getByLabel('Status').selectOption('under-review');
  await expect(other.getByLabel('Status')).toHaveValue('under-review');
  await second.close();
});

test('an attached file is verified by the server and downloads byte-identical', async ({
  page,
  browser,
  exhibit,
}) => {
  await setUpAdministrator(page, exhibit);
  const id = await createCase(page, { title: 'Missing person: J. Doe' });
  await page.getByTestId('file-input').setInputFiles(FIXTURE);
  const evidence = page.getByTestId('evidence-item');
  await expect(evidence.getByTestId('evidence-state')).toHaveText('verified');

  const original = await readFile(FIXTURE);
  const digest = createHash('sha256').update(original).digest('hex');
  await expect(evidence).toContainText(digest);

  const other = await browser.newContext();
  const reader = await other.newPage();
  await signIn(reader, exhibit.url);
  await reader.goto(`${exhibit.url}/cases/${id}`);
  const download = reader.waitForEvent('download');
  await reader.getByRole('link', { name: 'Download' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('astronaut.png');
  const bytes = await readFile((await file.path()) as string);
  expect(createHash('sha256').update(bytes).digest('hex')).toBe(digest);
  expect(bytes.equals(original)).toBe(true);
  await other.close();
});

test('a file added offline is kept on the device and uploaded when the server returns', async ({
  page,
  exhibit,
}) => {
  await setUpAdministrator(page, exhibit);
  await waitForOfflineReady(page);
  await createCase(page, { title: 'Vandalism, Park Road' });
  await exhibit.kill('SIGKILL');
  await expect(page.getByTestId('sync-status')).toContainText('Server unreachable');
  await page.getByTestId('file-input').setInputFiles({
    name: 'notes.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from('Witness saw two people near the fence at 23:40.\n'),
  });
  const evidence = page.getByTestId('evidence-item');
  await expect(evidence.getByTestId('evidence-state')).toHaveText('queued');
  await page.reload();
  await expect(page.getByTestId('evidence-item').getByTestId('evidence-state')).toHaveText(
    'queued',
  );
  await exhibit.start();
  await expect(page.getByTestId('evidence-item').getByTestId('evidence-state')).toHaveText(
    'verified',
    {
      timeout: 30_000,
    },
  );
});

test('a malformed case address gets a clear message', async ({ page, exhibit }) => {
  await setUpAdministrator(page, exhibit);
  await page.goto('/cases/..%2Fetc');
  await expect(page.getByRole('alert')).toContainText('is not a case address');
});

test.describe('on a phone', () => {
  const { defaultBrowserType: _, ...pixel7 } = devices['Pixel 7'];
  test.use(pixel7);

  test('creates a case and attaches a photo with touch', async ({ page, exhibit }) => {
    await setUpAdministrator(page, exhibit);
    await page.getByRole('button', { name: 'New case' }).tap();
    await page.getByLabel('Title').fill('Hit and run, Station Road');
    await page.getByLabel(/^Tags/).fill('traffic');
    await page.getByRole('button', { name: 'Create case' }).tap();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Hit and run, Station Road');
    await page.getByTestId('file-input').setInputFiles(FIXTURE);
    await expect(page.getByTestId('evidence-state')).toHaveText('verified');
    // Nothing may force sideways scrolling on a narrow screen.
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
  });
});
