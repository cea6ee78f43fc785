// Custody that starts on the device: a file added with no connection is hashed and its custody
// record signed in the browser before anything is sent; the server checks the signature when the
// device's log arrives, and the custody report shows the chain from device to last access.
import { readFile, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import type { CustodyReport } from '../../web/lib/shared/custody-report.ts';
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
import { fixturePath } from '../helpers/fixtures.ts';

test('a file added offline is sealed on the device, and its custody report shows the whole chain', async ({
  page,
  browser,
  exhibit,
}, testInfo) => {
  const photo = fixturePath('astronaut.png');
  const digest = createHash('sha256')
    .update(await readFile(photo))
    .digest('hex');
  await setUpAdministrator(page, exhibit);
  await createAccount(exhibit, IVY, 'investigator');
  const ivy = await signInElsewhere(browser, exhibit.url, IVY);
  const caseId = await createCase(ivy, { title: 'Burglary, Mill Lane' });

  await ivy.context().setOffline(true);
  await ivy.getByTestId('file-input').setInputFiles(photo);
  const item = ivy.getByTestId('evidence-item').filter({ hasText: 'astronaut.png' });
  // Hashed and signed here with no connection: the digest shows before a byte was sent.
  await expect(item).toContainText(digest, { timeout: 15_000 });
  await expect(
    ivy.getByTestId('upload-item').filter({ hasText: 'astronaut.png' }).getByTestId('upload-phase'),
  ).toHaveText('Waiting');
  await ivy.context().setOffline(false);
  await expect(item.getByTestId('evidence-state')).toHaveText('verified', { timeout: 30_000 });

  // Looking at it is recorded by the device too.
  await item.getByRole('button', { name: /Show preview/ }).click();
  await expect(item.getByTestId('evidence-preview').locator('img')).toBeVisible();

  const token = await accessTokenOf(exhibit, IVY);
  const evidenceId = await item
    .getByTestId('custody-link')
    .evaluate((a: HTMLAnchorElement) => a.pathname.split('/').at(-2));
  // The device's log reaches the server shortly after it is back online.
  let report: CustodyReport | undefined;
  await expect
    .poll(
      async () => {
        const response = await fetch(
          `${exhibit.url}/api/cases/${caseId}/evidence/${evidenceId}/custody`,
          { headers: { authorization: `Bearer ${token}` } },
        );
        report = (await response.json()) as CustodyReport;
        return report.events?.map((e) => `${e.action}${e.device ? '@device' : ''}`) ?? [];
      },
      { timeout: 20_000 },
    )
    .toEqual(
      expect.arrayContaining([
        'evidence.added@device',
        'evidence.upload_started',
        'evidence.stored',
        'evidence.viewed@device',
      ]),
    );
  const added = report!.events.find((e) => e.action === 'evidence.added')!;
  const started = report!.events.find((e) => e.action === 'evidence.upload_started')!;
  // Signed on the device before the upload began, and checked against its registered key.
  expect(Date.parse(added.deviceTime!)).toBeLessThan(Date.parse(started.serverTime));
  expect(added.device?.signature).toBe('valid');
  expect(report!.evidence).toMatchObject({ deviceSha256: digest, serverSha256: digest });

  // The case's activity tells the story in words, from the same trail.
  const activity = ivy.getByTestId('case-activity');
  await activity.getByRole('button', { name: 'Refresh' }).click();
  await expect(activity.locator('[data-action="evidence.stored"]')).toContainText(
    `${IVY.name} added a file, verified by the server: astronaut.png`,
  );
  await expect(activity.locator('[data-action="evidence.viewed"]')).toHaveCount(0);
  await item.getByTestId('custody-link').click();
  const shown = ivy.getByTestId('custody-report');
  await expect(shown.getByRole('heading', { name: 'Chain of custody' })).toBeVisible();
  for (const check of [
    'device-record',
    'device-signatures',
    'hashes-agree',
    'server-verified',
    'chain-intact',
  ]) {
    await expect(shown.locator(`[data-check="${check}"]`)).toHaveAttribute('data-outcome', 'pass');
  }
  await expect(shown.locator('[data-action="evidence.added"]')).toContainText('signature valid');
  await expect(shown).toContainText(digest);
  await ivy.screenshot({ path: testInfo.outputPath('custody-report.png'), fullPage: true });

  // Printed, it is the report alone: no app bar, no buttons.
  await ivy.emulateMedia({ media: 'print' });
  await expect(ivy.locator('header.topbar')).toBeHidden();
  await expect(ivy.getByRole('button', { name: /Print/ })).toBeHidden();
  const pdf = testInfo.outputPath('custody-report.pdf');
  await ivy.pdf({ path: pdf, format: 'A4' });
  expect((await stat(pdf)).size).toBeGreaterThan(10_000);
  await ivy.emulateMedia({ media: 'screen' });

  await ivy.setViewportSize({ width: 390, height: 844 });
  await ivy.screenshot({ path: testInfo.outputPath('custody-report-phone.png'), fullPage: true });

  // The account page lists this browser's key, registered, with its entries on the server.
  await ivy.goto('/account');
  const device = ivy.getByTestId('device').filter({ hasText: 'this browser' });
  await expect(device).toContainText(/[1-9]\d* custody entr/);
  await expect(ivy.getByTestId('this-device')).toContainText(
    'every custody entry is on the server',
  );
});
