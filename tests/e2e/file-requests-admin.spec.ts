// The investigator's side of public file requests: a case manager publishes a request through
// the form, shares its link, QR code and printable poster, pauses, reopens, extends and withdraws
// it, and reads what the public sent; someone who only views the case sees the requests but none
// of the controls.
import type { Locator, Page } from '@playwright/test';
import { fixturePath } from '../helpers/fixtures.ts';
import {
  test,
  expect,
  createAccount,
  investigatorWithCase,
  signInElsewhere,
  ANA,
} from './fixtures.ts';

const TITLE = 'Footage of the Mill Lane fire, 14 November';
const INSTRUCTIONS =
  'Did you film or photograph the fire between 21:00 and 23:00? Send the original files.';

/** A date input's value `days` from today, in this machine's (and the browser's) time zone. */
function daysAhead(days: number): string {
  const d = new Date();
  d.setDate(d.getDate() + days);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function requestCard(page: Page, title = TITLE): Locator {
  return page.getByRole('article', { name: title });
}

test('a case manager publishes a file request, shares it, and pauses, reopens, extends and withdraws it', async ({
  page,
  browser,
  exhibit,
}, testInfo) => {
  const { ivy, caseId } = await investigatorWithCase(page, browser, exhibit);
  await createAccount(exhibit, ANA, 'analyst');
  await ivy.context().grantPermissions(['clipboard-read', 'clipboard-write'], {
    origin: exhibit.url,
  });
  const caseUrl = ivy.url();

  // The form: public text, contact details, consent, and limits with sensible defaults.
  const panel = ivy.getByRole('region', { name: 'File requests' });
  await expect(panel).toContainText('No file requests yet.');
  await panel.getByRole('button', { name: 'New file request' }).click();
  const form = panel.getByRole('form', { name: 'New file request' });
  await expect(form.getByLabel('Public title')).toBeFocused();
  await expect(form.getByLabel('Open until')).toHaveValue(daysAhead(30));
  await expect(form.getByRole('radio', { name: /Ask, optional/ })).toBeChecked();
  await form.getByRole('button', { name: 'Publish request' }).click();
  await expect(form.getByRole('alert')).toHaveText('Give the request a public title.');

  await form.getByLabel('Public title').fill(TITLE);
  await expect(form.getByRole('alert')).toHaveCount(0);
  await form.getByLabel(/^Instructions/).fill(INSTRUCTIONS);
  await form.getByRole('radio', { name: /Required/ }).check();
  await form.getByLabel('Maximum files').fill('5');
  await form.getByLabel('Maximum total size').fill('500');
  await form.getByLabel('Size unit').selectOption('MB');
  await ivy.setViewportSize({ width: 390, height: 844 });
  await form.screenshot({ path: testInfo.outputPath('form-390.png') });
  await ivy.setViewportSize({ width: 1280, height: 720 });
  await form.screenshot({ path: testInfo.outputPath('form-desktop.png') });
  await form.getByRole('button', { name: 'Publish request' }).click();
  await expect(form).toHaveCount(0);

  const card = requestCard(ivy);
  await expect(card.getByTestId('file-request-state')).toHaveText('Open');
  await expect(card).toContainText('contact details required');
  await expect(card).toContainText('0 of 5');
  await expect(card).toContainText('0 B of 500 MB');
  const linkText = card.getByTestId('file-request-link');
  await expect(linkText).toHaveText(new RegExp(`^${exhibit.url}/r/[0-9A-Z]{12}$`));
  const link = await linkText.innerText();
  await expect(card.getByRole('img', { name: `QR code for ${link}` })).toBeVisible();
  await card.getByRole('button', { name: 'Copy link' }).click();
  await expect(card.getByRole('status')).toHaveText('Link copied.');
  expect(await ivy.evaluate(() => navigator.clipboard.readText())).toBe(link);

  // A viewer of the case sees the request, but nothing that would change it.
  await ivy.getByRole('region', { name: 'Members' }).getByLabel('Email').fill(ANA.email);
  await ivy
    .getByRole('region', { name: 'Members' })
    .getByLabel('Level', { exact: true })
    .selectOption('view');
  await ivy
    .getByRole('region', { name: 'Members' })
    .getByRole('button', { name: 'Add member' })
    .click();
  const ana = await signInElsewhere(browser, exhibit.url, ANA);
  await ana.goto(caseUrl);
  await expect(requestCard(ana).getByTestId('file-request-state')).toHaveText('Open');
  await expect(requestCard(ana).getByTestId('file-request-link')).toHaveText(link);
  const anaPanel = ana.getByRole('region', { name: 'File requests' });
  for (const name of ['New file request', 'Pause', 'Extend…', 'Withdraw…']) {
    await expect(anaPanel.getByRole('button', { name })).toHaveCount(0);
  }
  await ana.context().close();

  await ivy.screenshot({ path: testInfo.outputPath('panel-desktop.png'), fullPage: true });
  await ivy.setViewportSize({ width: 390, height: 844 });
  await card.scrollIntoViewIfNeeded();
  await ivy.screenshot({ path: testInfo.outputPath('panel-390.png'), fullPage: true });
  await ivy.setViewportSize({ width: 1280, height: 720 });

  // The poster: the public text, a large code and the link, and a clean printed page.
  await card.getByRole('link', { name: 'Printable poster' }).click();
  await ivy.waitForURL(new RegExp(`/cases/${caseId}/requests/[0-9a-f-]{36}/poster$`));
  const poster = ivy.getByTestId('poster');
  await expect(poster.getByRole('heading', { level: 1 })).toHaveText(TITLE);
  await expect(poster).toContainText(INSTRUCTIONS);
  await expect(poster.getByRole('img', { name: `QR code for ${link}` })).toBeVisible();
  await expect(poster.getByTestId('poster-link')).toHaveText(link);
  await expect(poster).toContainText('No account needed · Files are sent securely · Open until');
  await ivy.screenshot({ path: testInfo.outputPath('poster-desktop.png'), fullPage: true });
  await ivy.emulateMedia({ media: 'print' });
  await expect(ivy.locator('header.topbar')).toBeHidden();
  await expect(ivy.getByRole('button', { name: 'Print poster' })).toBeHidden();
  await expect(poster.getByRole('img', { name: `QR code for ${link}` })).toBeVisible();
  await ivy.screenshot({ path: testInfo.outputPath('poster-print.png'), fullPage: true });
  const pdf = await ivy.pdf({ preferCSSPageSize: true, printBackground: true });
  await testInfo.attach('poster.pdf', { body: pdf, contentType: 'application/pdf' });
  expect(pdf.toString('latin1').match(/\/Type\s*\/Page(?!s)/g), 'pages printed').toHaveLength(1);
  await ivy.emulateMedia({ media: 'screen' });
  await ivy.setViewportSize({ width: 390, height: 844 });
  await ivy.screenshot({ path: testInfo.outputPath('poster-390.png'), fullPage: true });
  await ivy.setViewportSize({ width: 1280, height: 720 });

  // The link itself leads to the public page.
  const witness = await (await browser.newContext()).newPage();
  await witness.goto(link);
  await expect(witness.getByTestId('request-title')).toHaveText(TITLE);

  await ivy.getByRole('link', { name: '← Back to the case' }).click();
  await ivy.waitForURL(caseUrl);

  // Pause and reopen.
  // From the keyboard, as the rest of the panel works.
  await card.getByRole('button', { name: 'Pause' }).focus();
  await ivy.keyboard.press('Enter');
  await expect(card.getByTestId('file-request-state')).toHaveText('Paused');
  await card.getByRole('button', { name: 'Reopen' }).click();
  await expect(card.getByTestId('file-request-state')).toHaveText('Open');

  // Extend: the date field opens focused, with a date 30 days past the current expiry.
  const before = await card.locator('p.meta').innerText();
  await card.getByRole('button', { name: 'Extend…' }).click();
  const until = card.getByLabel('Open until');
  await expect(until).toBeFocused();
  await expect(until).toHaveValue(daysAhead(60));
  await until.fill(daysAhead(90));
  await card.getByRole('button', { name: 'Save date' }).click();
  await expect(card.getByRole('button', { name: 'Extend…' })).toBeFocused();
  await expect(card.locator('p.meta')).not.toHaveText(before);

  // Withdraw, after a confirmation that can be backed out of.
  await card.getByRole('button', { name: 'Withdraw…' }).click();
  await expect(card.getByRole('button', { name: 'Keep it' })).toBeFocused();
  await card.getByRole('button', { name: 'Keep it' }).click();
  await expect(card.getByRole('button', { name: 'Withdraw…' })).toBeFocused();
  await expect(card.getByTestId('file-request-state')).toHaveText('Open');
  await card.getByRole('button', { name: 'Withdraw…' }).click();
  await expect(card.getByRole('group')).toContainText('This cannot be undone.');
  await card.getByRole('button', { name: 'Withdraw request' }).click();
  await expect(card.getByTestId('file-request-state')).toHaveText('Withdrawn');
  await expect(card.getByRole('heading', { name: TITLE })).toBeFocused();
  await expect(card.getByRole('img', { name: /QR code/ })).toHaveCount(0);
  await expect(card.getByRole('button', { name: /Pause|Reopen|Extend|Withdraw/ })).toHaveCount(0);

  // The server keeps it withdrawn, and the link refuses.
  await ivy.reload();
  await expect(requestCard(ivy).getByTestId('file-request-state')).toHaveText('Withdrawn');
  await witness.reload();
  await expect(witness.locator('body')).toContainText('withdrawn');
});

test('what the public sent is listed under its request, and marked in the evidence list', async ({
  page,
  browser,
  exhibit,
}, testInfo) => {
  const { ivy } = await investigatorWithCase(page, browser, exhibit);
  const panel = ivy.getByRole('region', { name: 'File requests' });
  await panel.getByRole('button', { name: 'New file request' }).click();
  await panel.getByLabel('Public title').fill(TITLE);
  await panel.getByRole('button', { name: 'Publish request' }).click();
  const card = requestCard(ivy);
  const link = await card.getByTestId('file-request-link').innerText();

  // A witness sends one photo through the public page.
  const witness = await (await browser.newContext()).newPage();
  await witness.goto(link);
  await witness.getByLabel(/^Name/).fill('Wendy Witness');
  await witness.getByLabel('Email').fill('wendy@example.net');
  await witness.getByRole('checkbox').check();
  await witness.getByRole('button', { name: 'Continue' }).click();
  await witness.getByTestId('public-file-input').setInputFiles(fixturePath('astronaut.png'));
  await expect(witness.getByTestId('public-file')).toHaveAttribute('data-state', 'verified', {
    timeout: 30_000,
  });
  await witness.getByRole('button', { name: 'Finish and get a receipt' }).click();
  const reference = await witness.getByTestId('receipt-reference').innerText();
  const sha256 = /[0-9a-f]{64}/.exec(await witness.getByTestId('receipt').innerText())?.[0];
  expect(sha256).toBeDefined();

  // The evidence list marks it; the request's counts and submissions show who sent what.
  const item = ivy.getByTestId('evidence-item').filter({ hasText: 'astronaut.png' });
  await expect(item.getByTestId('public-submission')).toHaveText(
    `Public submission · ${reference}`,
    { timeout: 20_000 },
  );
  await expect(card.getByTestId('file-request-submissions')).toHaveText('1');
  await expect(card).toContainText('1 of 20');
  await card.getByRole('button', { name: 'Show submissions (1)' }).click();
  const submission = card.getByTestId('submission');
  await expect(submission).toContainText(reference);
  await expect(submission).toContainText('Wendy Witness');
  await expect(submission.getByRole('link', { name: 'wendy@example.net' })).toHaveAttribute(
    'href',
    'mailto:wendy@example.net',
  );
  await expect(submission).toContainText('astronaut.png');
  await expect(submission).toContainText('verified');
  await expect(submission).toContainText(sha256 ?? '');
  await expect(submission).toContainText(/From (127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)/);
  await expect(submission).toContainText('consent given');
  await expect(card.getByRole('button', { name: 'Hide submissions (1)' })).toHaveAttribute(
    'aria-expanded',
    'true',
  );
  await card.screenshot({ path: testInfo.outputPath('submissions-desktop.png') });
  await ivy.setViewportSize({ width: 390, height: 844 });
  await card.screenshot({ path: testInfo.outputPath('submissions-390.png') });
  await item.screenshot({ path: testInfo.outputPath('evidence-390.png') });
});
