// axe-core on the main screens, as people reach them: no serious or critical violations of
// WCAG 2 A/AA on the sign-in form, the case list, a case, an evidence item, its custody report,
// the account page, the administration screens and the public upload page on a phone.
import { fixturePath } from '../helpers/fixtures.ts';
import {
  test,
  expect,
  accessTokenOf,
  investigatorWithCase,
  seriousViolations,
  IVY,
} from './fixtures.ts';

test('the main screens have no serious accessibility violations', async ({
  page,
  browser,
  exhibit,
}) => {
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  expect(await seriousViolations(page), 'sign-in').toEqual([]);

  const { ivy, caseId } = await investigatorWithCase(page, browser, exhibit);
  expect(await seriousViolations(page), 'case list (administrator)').toEqual([]);

  await ivy.getByTestId('file-input').setInputFiles(fixturePath('astronaut.png'));
  const item = ivy.getByTestId('evidence-item').filter({ hasText: 'astronaut.png' });
  await expect(item.getByTestId('evidence-state')).toHaveText('verified', { timeout: 30_000 });
  expect(await seriousViolations(ivy), 'case page').toEqual([]);

  await item.getByTestId('evidence-open').click();
  await expect(ivy.getByRole('heading', { level: 1 })).toHaveText('astronaut.png');
  expect(await seriousViolations(ivy), 'evidence page').toEqual([]);

  await ivy.goBack();
  await ivy.getByTestId('evidence-item').getByTestId('custody-link').click();
  await expect(ivy.getByTestId('custody-report')).toContainText('Verification');
  expect(await seriousViolations(ivy), 'custody report').toEqual([]);

  await ivy.goto('/account');
  await expect(ivy.getByRole('heading', { name: 'Your account' })).toBeVisible();
  expect(await seriousViolations(ivy), 'account').toEqual([]);

  for (const path of ['/admin/users', '/admin/audit']) {
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    expect(await seriousViolations(page), path).toEqual([]);
  }

  const token = await accessTokenOf(exhibit, IVY);
  const created = await fetch(`${exhibit.url}/api/cases/${caseId}/file-requests`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      title: 'Footage of the fire',
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      maxBytes: 100_000_000,
    }),
  });
  const { code } = (await created.json()) as { code: string };
  const phone = await browser.newContext({
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
  });
  const witness = await phone.newPage();
  await witness.goto(`${exhibit.url}/r/${code}`);
  await expect(witness.getByTestId('request-title')).toBeVisible();
  expect(await seriousViolations(witness), 'public request page').toEqual([]);
});
