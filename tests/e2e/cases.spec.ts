import type { Browser, Page } from '@playwright/test';
import {
  test,
  expect,
  addMember,
  createAccount,
  createCase,
  setUpAdministrator,
  seriousViolations,
  signInElsewhere,
  ANA,
  IVY,
  type ExhibitProcess,
} from './fixtures.ts';

/** Full-page screenshots to look at; `SCREENSHOT_DIR` keeps them out of the shared results. */
async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env['SCREENSHOT_DIR'];
  await page.screenshot({
    path: dir ? `${dir}/${name}` : test.info().outputPath(name),
    fullPage: true,
  });
}

/** The administrator adds a department; Ivy opens a case and shares it with Ana. */
async function caseWithColleague(page: Page, browser: Browser, exhibit: ExhibitProcess) {
  await setUpAdministrator(page, exhibit);
  await page.getByRole('link', { name: 'Departments' }).click();
  await page.getByLabel('New department').fill('Major Crimes');
  await page.getByRole('button', { name: 'Add department' }).click();
  await expect(page.getByTestId('department')).toHaveText(/Major Crimes/);
  expect(await seriousViolations(page), 'departments').toEqual([]);
  await createAccount(exhibit, IVY, 'investigator');
  await createAccount(exhibit, ANA, 'investigator');
  const ivy = await signInElsewhere(browser, exhibit.url, IVY);
  const caseId = await createCase(ivy, {
    title: 'Arson, Mill Lane warehouse',
    description: 'Fire reported at 02:10 by a passer-by.',
    tags: 'arson',
  });
  await addMember(ivy, ANA);
  return { ivy, caseId };
}

/** Fills in the case summary the way an investigator does after the first visit. */
async function editSummary(ivy: Page): Promise<void> {
  await ivy.getByRole('button', { name: 'Edit summary' }).click();
  const form = ivy.getByRole('form', { name: 'Edit summary' });
  await form.getByLabel('Incident number').fill('INC-2026-0415');
  await form.getByLabel('Incident type').fill('Arson');
  await form.getByLabel('Incident date (from)').fill('2026-04-14');
  await form.getByLabel('To (if over several days)').fill('2026-04-15');
  await form.getByLabel('Location').fill('Mill Lane warehouse, Northgate');
  await form.getByLabel('Latitude').fill('53.4808');
  await form.getByLabel('Longitude').fill('-2.2426');
  await form.getByLabel('Department').selectOption({ label: 'Major Crimes' });
  await form.getByLabel('Tags').fill('cctv');
  await form.getByLabel('Tags').press('Enter');
  await form.getByRole('button', { name: 'Save summary' }).click();
  const summary = ivy.getByRole('region', { name: 'Summary' });
  await expect(summary.getByTestId('summary-number')).toHaveText('INC-2026-0415');
  await expect(summary.getByTestId('summary-type')).toHaveText('Arson');
  await expect(summary.getByTestId('summary-department')).toHaveText('Major Crimes');
  await expect(summary.getByTestId('summary-location')).toContainText('53.48080, -2.24260');
  await expect(summary.getByTestId('summary-dates')).toContainText('2026');
  await expect(summary.getByLabel('Tags')).toHaveText(/arson\s*cctv/);
}

test('a case summary is edited, moved through its workflow and assigned; the assignee is told', async ({
  page,
  browser,
  exhibit,
}) => {
  const { ivy, caseId } = await caseWithColleague(page, browser, exhibit);
  await editSummary(ivy);

  // An incident cannot end before it starts: the form says so and keeps what was typed.
  await ivy.getByRole('button', { name: 'Edit summary' }).click();
  const form = ivy.getByRole('form', { name: 'Edit summary' });
  await form.getByLabel('To (if over several days)').fill('2026-04-01');
  await form.getByRole('button', { name: 'Save summary' }).click();
  await expect(form.getByRole('alert')).toHaveText('The incident cannot end before it started.');
  expect(await seriousViolations(ivy), 'summary form').toEqual([]);
  await form.getByRole('button', { name: 'Cancel' }).click();

  // The workflow offers only its next and previous steps.
  const status = ivy.getByLabel('Status');
  await expect(status.locator('option')).toHaveText(['Open', 'Send for review']);
  await status.selectOption({ label: 'Send for review' });
  await expect(ivy.locator('[aria-current="step"]')).toHaveText('Under review');
  await expect(status.locator('option')).toHaveText(['Under review', 'Close case', 'Back to open']);

  await ivy.getByRole('button', { name: 'Assign someone…' }).click();
  await ivy.getByLabel('Assign a member').selectOption({ label: ANA.name });
  await ivy.getByRole('button', { name: 'Assign', exact: true }).click();
  await expect(ivy.getByTestId('assignee')).toHaveText(new RegExp(ANA.name));
  await expect(ivy.getByTestId('doc-state')).toHaveText('Saved on server');
  await screenshot(ivy, 'case-page-desktop.png');

  const ana = await signInElsewhere(browser, exhibit.url, ANA);
  await expect(ana.getByTestId('notification-count')).toHaveText('1');
  await ana.getByTestId('notification-bell').click();
  const told = ana.getByRole('region', { name: 'Notifications' }).getByTestId('notification');
  await expect(told).toContainText('You were assigned to “Arson, Mill Lane warehouse”');
  await told.getByRole('link').first().click();
  await expect(ana).toHaveURL(new RegExp(`/cases/${caseId}$`));
  await expect(ana.getByRole('region', { name: 'Summary' })).toContainText('INC-2026-0415');

  // Both changes are in the audit trail, each with who made it.
  await page.goto(`${exhibit.url}/admin/audit`);
  await expect(page.getByText('case.status_changed').first()).toBeVisible();
  await expect(page.getByText('case.assigned').first()).toBeVisible();
});

test('the case list searches, filters and keeps saved views', async ({
  page,
  browser,
  exhibit,
}) => {
  const { ivy } = await caseWithColleague(page, browser, exhibit);
  await editSummary(ivy);
  await ivy.getByLabel('Status').selectOption({ label: 'Send for review' });
  await ivy.getByRole('button', { name: 'Assign someone…' }).click();
  await ivy.getByLabel('Assign a member').selectOption({ label: ANA.name });
  await ivy.getByRole('button', { name: 'Assign', exact: true }).click();
  await ivy.getByTestId('file-input').setInputFiles({
    name: 'northgate-cctv-camera3.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from('stills'),
  });
  await expect(ivy.getByTestId('evidence-item')).toHaveCount(1);
  // The device writes what the case list searches once edits pause.
  await ivy.waitForTimeout(4000);
  await ivy.getByRole('link', { name: '← All cases' }).click();
  await createCase(ivy, { title: 'Stolen bicycle, Canal Street', tags: 'theft' });
  await ivy.getByRole('link', { name: '← All cases' }).click();

  const rows = ivy.getByTestId('case-row');
  await expect(rows).toHaveCount(2);
  const search = ivy.getByLabel('Search cases');
  await search.fill('camera3');
  await expect(rows).toHaveCount(1);
  await expect(rows).toContainText('Arson, Mill Lane warehouse');
  await search.fill('inc-2026-0415');
  await expect(rows).toHaveCount(1);
  await search.fill('canal');
  await expect(rows).toHaveText([/Stolen bicycle/]);
  await search.fill('');
  await expect(rows).toHaveCount(2);

  await ivy.getByRole('button', { name: 'Filters' }).click();
  await ivy.getByLabel('Status', { exact: true }).selectOption({ label: 'Under review' });
  await expect(rows).toHaveText([/Arson/]);
  expect(await seriousViolations(ivy), 'case list with filters').toEqual([]);
  await ivy.getByRole('button', { name: 'Save this view' }).click();
  await ivy.getByLabel('Name of the view').fill('Under review');
  await ivy.getByRole('button', { name: 'Save', exact: true }).click();
  await ivy.getByRole('button', { name: 'Clear filters' }).click();
  await expect(rows).toHaveCount(2);
  await ivy.getByLabel('Assignee').selectOption({ label: ANA.name });
  await expect(rows).toHaveText([/Arson/]);
  await ivy.getByRole('button', { name: 'Clear filters' }).click();
  await ivy.getByLabel('Tag', { exact: true }).selectOption('theft');
  await expect(rows).toHaveText([/Stolen bicycle/]);
  await ivy.getByRole('button', { name: 'Clear filters' }).click();
  await ivy.getByLabel('Incident from').fill('2026-04-15');
  await expect(rows).toHaveText([/Arson/]);
  await ivy.getByLabel('Incident from').fill('2026-04-16');
  await expect(ivy.getByText('No case matches.')).toBeVisible();
  await ivy.getByRole('button', { name: 'Clear filters' }).click();
  await ivy.getByLabel('Sort').selectOption({ label: 'Title (A–Z)' });
  await expect(rows).toHaveText([/Arson/, /Stolen bicycle/]);

  // The saved view survives a reload on this device.
  await ivy.reload();
  await ivy.getByLabel('Saved view').selectOption({ label: 'Under review' });
  await expect(rows).toHaveText([/Arson/]);
  await screenshot(ivy, 'case-list-desktop.png');

  // Ana does not hold Ivy's cases on her device until she opens them: her search says so.
  const ana = await signInElsewhere(browser, exhibit.url, ANA);
  await ana.getByLabel('Search cases').fill('arson');
  await expect(ana.getByTestId('case-row')).toHaveCount(1);
  await expect(ana.getByTestId('search-scope')).toContainText('searched by summary only');
});

test.describe('on a phone-sized screen', () => {
  test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

  test('the summary, workflow and case list work at 390 px', async ({ page, browser, exhibit }) => {
    const { ivy } = await caseWithColleague(page, browser, exhibit);
    await ivy.setViewportSize({ width: 390, height: 844 });
    await editSummary(ivy);
    await ivy.getByLabel('Status').selectOption({ label: 'Send for review' });
    await expect(ivy.locator('[aria-current="step"]')).toHaveText('Under review');
    await ivy.getByRole('button', { name: 'Edit summary' }).click();
    await screenshot(ivy, 'case-form-phone.png');
    await ivy.getByRole('button', { name: 'Cancel' }).click();
    await screenshot(ivy, 'case-page-phone.png');
    const width = await ivy.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(390);

    await ivy.getByRole('link', { name: '← All cases' }).click();
    await ivy.getByRole('button', { name: 'Filters' }).click();
    await ivy.getByLabel('Department').selectOption({ label: 'Major Crimes' });
    await expect(ivy.getByTestId('case-row')).toHaveText([/Arson/]);
    await ivy.getByLabel('Search cases').fill('mill lane');
    await expect(ivy.getByTestId('case-row')).toHaveCount(1);
    await screenshot(ivy, 'case-list-phone.png');
    expect(await ivy.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  });
});
