// Public file requests end to end: a witness opens the request's link on a phone (touch, small
// screen, no account), sends two files — one interrupted by losing the connection and resumed —
// and gets a receipt; the investigator finds both in the case, verified, and is told in the app
// and by e-mail (a real SMTP server). A withdrawn link refuses files, saying so.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from '@playwright/test';
import type { FileRequestView } from '../../web/lib/shared/file-requests.ts';
import { fixturePath } from '../helpers/fixtures.ts';
import {
  testWithMail,
  expect,
  accessTokenOf,
  investigatorWithCase,
  type ExhibitProcess,
  IVY,
} from './fixtures.ts';

const MB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Each test's server mails its notifications to a real SMTP server of its own. */
const test = testWithMail;

let dir = '';
let videoPath = '';
let video: Buffer;

test.beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'exhibit-e2e-requests-files-'));
  // More than two of the 16 MiB chunks the server asks for.
  video = randomBytes(36 * MB);
  videoPath = join(dir, 'balcony-recording.mp4');
  await writeFile(videoPath, video);
});

test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A witness's phone: small touch screen, a mobile browser, nothing shared with the app. */
async function phone(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    userAgent:
      'Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36',
  });
  return { context, page: await context.newPage() };
}

/** The investigator publishes a request for her case, as the case page does, through the API. */
async function publish(
  exhibit: ExhibitProcess,
  caseId: string,
  input: Record<string, unknown> = {},
): Promise<FileRequestView> {
  const token = await accessTokenOf(exhibit, IVY);
  const response = await fetch(`${exhibit.url}/api/cases/${caseId}/file-requests`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      title: 'Fire at the Mill Lane warehouse',
      instructions: 'Did you film or photograph the fire on 14 November between 21:00 and 23:00?',
      contact: 'optional',
      expiresAt: new Date(Date.now() + 14 * 86_400_000).toISOString(),
      maxFiles: 10,
      maxBytes: 500 * MB,
      ...input,
    }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as FileRequestView;
}

test('a witness sends two files from a phone, one resumed after losing signal, and gets a receipt', async ({
  page,
  browser,
  exhibit,
  smtp,
}, testInfo) => {
  const { ivy, caseId } = await investigatorWithCase(page, browser, exhibit);
  const request = await publish(exhibit, caseId);
  const photoPath = fixturePath('astronaut.png');
  const photo = await readFile(photoPath);

  const { context, page: witness } = await phone(browser);
  await witness.goto(`/r/${request.code}`);
  await expect(witness.getByTestId('request-title')).toHaveText(request.title);
  // Nothing about the case itself is on the page.
  await expect(witness.locator('body')).not.toContainText('Arson');
  await witness.screenshot({ path: testInfo.outputPath('phone-request.png'), fullPage: true });

  await witness.getByLabel(/^Name/).fill('Wendy Witness');
  await witness.getByLabel('Email').fill('wendy@example.net');
  await witness.getByRole('checkbox').tap();
  await witness.getByRole('button', { name: 'Continue' }).tap();

  // The signal goes the moment the second chunk of the video is on its way: the first (16 MiB)
  // is on the server, the second is lost with the connection.
  const patches: number[] = [];
  let cut: () => void = () => undefined;
  const signalLost = new Promise<void>((resolve) => (cut = resolve));
  await context.route('**/api/public/uploads/**', async (route) => {
    const request = route.request();
    if (request.method() !== 'PATCH') return route.continue();
    patches.push(Number(request.headers()['upload-offset']));
    if (patches.length !== 2) return route.continue();
    await context.setOffline(true);
    cut();
    return route.abort('internetdisconnected');
  });
  await witness.getByTestId('public-file-input').setInputFiles([videoPath, photoPath]);
  const first = witness.getByTestId('public-file').filter({ hasText: 'balcony-recording.mp4' });
  await signalLost;
  await expect(first).toHaveAttribute('data-state', 'waiting');
  await expect(first).toContainText('No connection');
  await expect(first).toContainText('17 MB of 38 MB');
  await witness.waitForTimeout(1000);
  await context.setOffline(false);

  const files = witness.getByTestId('public-file');
  await expect(files.and(witness.locator('[data-state="verified"]'))).toHaveCount(2, {
    timeout: 60_000,
  });
  await expect(first).toContainText(sha256(video));
  // Resumed from what the server held, not from the start.
  expect(patches.slice(2, 3)).toEqual([16 * MB]);
  await witness.getByRole('button', { name: 'Finish and get a receipt' }).tap();
  const receipt = witness.getByTestId('receipt');
  await expect(receipt.getByTestId('receipt-reference')).toHaveText(
    /^EXH-[0-9A-Z]{4}-[0-9A-Z]{4}$/,
  );
  await expect(receipt.getByTestId('receipt-file')).toHaveCount(2);
  await expect(receipt).toContainText(sha256(video));
  await expect(receipt).toContainText(sha256(photo));
  await witness.screenshot({ path: testInfo.outputPath('phone-receipt.png'), fullPage: true });
  const reference = await receipt.getByTestId('receipt-reference').innerText();

  // The investigator finds both in the case, verified, sent by the witness.
  for (const [name, bytes] of [
    ['balcony-recording.mp4', video],
    ['astronaut.png', photo],
  ] as const) {
    const item = ivy.getByTestId('evidence-item').filter({ hasText: name });
    await expect(item.getByTestId('evidence-state')).toHaveText('verified', { timeout: 20_000 });
    await expect(item).toContainText(sha256(bytes));
    await expect(item).toContainText('Wendy Witness');
  }
  // Told in the app, and by mail.
  const token = await accessTokenOf(exhibit, IVY);
  const notes = (await (
    await fetch(`${exhibit.url}/api/notifications`, {
      headers: { authorization: `Bearer ${token}` },
    })
  ).json()) as { notifications: { kind: string; body?: string }[] };
  const told = notes.notifications.filter((n) => n.kind === 'request.file_received');
  expect(told).toHaveLength(2);
  expect(told[0]?.body).toContain(reference);
  const mail = await smtp.waitFor((m) => m.to.includes(IVY.email));
  expect(mail.subject).toContain('Public submission');
  expect(mail.links.some((link) => link.includes(`/cases/${caseId}`))).toBe(true);
});

test('a page reloaded mid-upload (a phone that locked and dropped the tab) goes on by itself', async ({
  page,
  browser,
  exhibit,
}) => {
  const { caseId } = await investigatorWithCase(page, browser, exhibit);
  const request = await publish(exhibit, caseId, { contact: 'none' });
  const { context, page: witness } = await phone(browser);
  await witness.goto(`/r/${request.code}`);
  await witness.getByRole('checkbox').tap();
  await witness.getByRole('button', { name: 'Continue' }).tap();

  const seen: { method: string; offset?: number }[] = [];
  let cut: () => void = () => undefined;
  const tabLost = new Promise<void>((resolve) => (cut = resolve));
  await context.route('**/api/public/uploads**', async (route) => {
    const request = route.request();
    const offset = request.headers()['upload-offset'];
    seen.push({ method: request.method(), ...(offset ? { offset: Number(offset) } : {}) });
    if (request.method() === 'PATCH' && seen.filter((r) => r.method === 'PATCH').length === 2) {
      cut();
      return route.abort('connectionreset');
    }
    return route.continue();
  });
  await witness.getByTestId('public-file-input').setInputFiles(videoPath);
  await tabLost;
  const before = seen.length;
  await witness.reload();

  const file = witness.getByTestId('public-file');
  await expect(file).toHaveAttribute('data-state', 'verified', { timeout: 60_000 });
  await expect(file).toContainText(sha256(video));
  const after = seen.slice(before);
  // Not created again, and not sent again from the first byte: asked where it stands, went on.
  expect(after.filter((r) => r.method === 'POST')).toHaveLength(0);
  expect(after[0]?.method).toBe('HEAD');
  expect(after.find((r) => r.method === 'PATCH')?.offset).toBe(16 * MB);
  await witness.getByRole('button', { name: 'Finish and get a receipt' }).tap();
  await expect(witness.getByTestId('receipt-file')).toHaveCount(1);
});

test('a withdrawn link refuses files with a clear message', async ({ page, browser, exhibit }) => {
  const { caseId } = await investigatorWithCase(page, browser, exhibit);
  const request = await publish(exhibit, caseId, { contact: 'none' });
  const { page: witness } = await phone(browser);
  await witness.goto(`/r/${request.code}`);
  await expect(witness.getByText('This request is anonymous')).toBeVisible();
  await witness.getByRole('checkbox').tap();
  await witness.getByRole('button', { name: 'Continue' }).tap();
  await expect(witness.getByTestId('public-file-input')).toBeAttached();

  const token = await accessTokenOf(exhibit, IVY);
  const revoked = await fetch(
    `${exhibit.url}/api/cases/${caseId}/file-requests/${request.id}/revoke`,
    { method: 'POST', headers: { authorization: `Bearer ${token}` } },
  );
  expect(revoked.status).toBe(200);

  await witness.getByTestId('public-file-input').setInputFiles(fixturePath('astronaut.png'));
  const file = witness.getByTestId('public-file');
  await expect(file).toHaveAttribute('data-state', 'failed');
  await expect(file).toContainText('withdrawn');
  // Opened again, the link says it takes nothing, and why.
  await witness.reload();
  await expect(witness.getByTestId('request-closed')).toContainText('withdrawn');
  await witness.goto('/r/0000000000AA');
  await expect(witness.getByTestId('request-closed')).toContainText('no file request');
});
