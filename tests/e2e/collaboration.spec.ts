// Working together on one case: annotations and comments that reach a colleague live, presence,
// undo that takes back only one's own change, mentions that notify, and two people editing with
// no connection whose work is all there once they are back online.
import type { Browser, Page } from '@playwright/test';
import {
  test,
  expect,
  accessTokenOf,
  createAccount,
  investigatorWithCase,
  signInElsewhere,
  waitForOfflineReady,
  ANA,
  IVY,
  type ExhibitProcess,
} from './fixtures.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath } from '../helpers/fixtures.ts';
import { ffmpeg } from '../helpers/media-fixtures.ts';

test.describe.configure({ timeout: 180_000 });

/** Ivy's case with a file in it (a photo unless named), and Ana contributing to it. */
async function caseWithPhoto(
  {
    page,
    browser,
    exhibit,
  }: {
    page: Page;
    browser: Browser;
    exhibit: ExhibitProcess;
  },
  file = fixturePath('astronaut.png'),
) {
  const { ivy, caseId } = await investigatorWithCase(page, browser, exhibit, 'Robbery, Canal St');
  await createAccount(exhibit, ANA, 'analyst');
  const members = ivy.getByRole('region', { name: 'Members' });
  await members.getByLabel('Email').fill(ANA.email);
  await members.getByLabel('Level', { exact: true }).selectOption('contribute');
  await members.getByRole('button', { name: 'Add member' }).click();
  await expect(members).toContainText(ANA.name);

  await ivy.getByTestId('file-input').setInputFiles(file);
  const item = ivy.getByTestId('evidence-item').filter({ hasText: file.split('/').at(-1)! });
  await expect(item.getByTestId('evidence-state')).toHaveText('verified', { timeout: 30_000 });
  const href = await item.getByTestId('evidence-open').getAttribute('href');
  const ana = await signInElsewhere(browser, exhibit.url, ANA);
  return {
    ivy,
    ana,
    casePage: `${exhibit.url}/cases/${caseId}`,
    evidencePage: `${exhibit.url}${href!}`,
  };
}

function panel(page: Page) {
  return page.getByRole('region', { name: 'Annotations' });
}

function timeline(page: Page) {
  return panel(page).getByRole('list', { name: 'On this item' });
}

async function addNote(page: Page, text: string) {
  await panel(page).getByLabel(/^Note/).fill(text);
  await panel(page).getByRole('button', { name: 'Add note' }).click();
  await expect(timeline(page)).toContainText(text);
}

/** Drags a rectangle over the middle of the picture with the region tool. */
async function drawRegion(page: Page, label: string) {
  await panel(page).getByLabel('Region label').fill(label);
  await panel(page).getByRole('button', { name: 'Draw region' }).click();
  const box = (await page.getByTestId('region-layer').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.3);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.45, { steps: 5 });
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.6, { steps: 5 });
  await page.mouse.up();
  await expect(timeline(page)).toContainText(label);
}

async function comment(page: Page, where: 'evidence' | 'case', text: string) {
  const form = page.getByRole('form', { name: 'New comment' });
  await form.getByLabel('Comment').fill(text);
  await form.getByRole('button', { name: 'Post comment' }).click();
  const heading = where === 'case' ? 'Comments on the case' : 'Comments';
  await expect(page.getByRole('region', { name: heading, exact: true })).toContainText(text);
}

test('annotations reach a colleague live, with presence, undo and mentions', async ({
  page,
  browser,
  exhibit,
}, testInfo) => {
  const { ivy, ana, casePage, evidencePage } = await caseWithPhoto({ page, browser, exhibit });
  await ivy.goto(evidencePage);
  await ana.goto(casePage);

  // Presence: each sees the other and where they are.
  await expect(ana.getByTestId('presence')).toContainText(`${IVY.name} viewing astronaut.png`);
  await expect(panel(ivy).getByTestId('presence')).toContainText(`${ANA.name} on the case page`);
  await testInfo.attach('case page with presence', {
    body: await ana.screenshot({ fullPage: true }),
    contentType: 'image/png',
  });

  // A case comment mentioning Ivy, picked from the suggestions, notifies her.
  const discussion = ana.getByRole('form', { name: 'New comment' });
  await discussion.getByLabel('Comment').pressSequentially('Please check the photo @Iv');
  await discussion.getByRole('option', { name: /Ivy Investigator/ }).click();
  await discussion.getByRole('button', { name: 'Post comment' }).click();
  await expect(ana.getByRole('region', { name: 'Comments on the case' })).toContainText(
    `Please check the photo @${IVY.name}`,
  );
  const token = await accessTokenOf(exhibit, IVY);
  await expect
    .poll(async () => {
      const response = await fetch(`${exhibit.url}/api/notifications`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const body = (await response.json()) as { notifications: Array<{ title: string }> };
      return body.notifications.map((n) => n.title);
    })
    .toContain(`${ANA.name} mentioned you`);

  // Live: Ana opens the photo; what Ivy adds appears for her without a reload, and the other way.
  await ana.goto(evidencePage);
  await expect(panel(ivy).getByTestId('presence')).toContainText(`${ANA.name} viewing this item`);
  await addNote(ivy, 'Suspect reflected in the visor');
  await expect(timeline(ana)).toContainText('Suspect reflected in the visor');
  await drawRegion(ivy, 'Reflection');
  await expect(timeline(ana)).toContainText('Reflection');
  await expect(ana.getByTestId('region-layer').locator('rect')).toHaveCount(1);
  await comment(ana, 'evidence', 'Agreed, enhance that area');
  await expect(panel(ivy)).toContainText('Agreed, enhance that area');

  // Undo takes back only one's own last change, even after a colleague's.
  await addNote(ana, 'Second reflection, left side');
  await addNote(ivy, 'Timestamp burnt in at the corner');
  await expect(timeline(ana)).toContainText('Timestamp burnt in at the corner');
  await panel(ana).getByRole('button', { name: 'Undo' }).click();
  await expect(timeline(ana)).not.toContainText('Second reflection, left side');
  await expect(timeline(ivy)).not.toContainText('Second reflection, left side');
  await expect(timeline(ivy)).toContainText('Timestamp burnt in at the corner');
  // The keyboard does the same; redo brings it back.
  await ana.getByRole('heading', { level: 1 }).click();
  await ana.keyboard.press('Control+Shift+Z');
  await expect(timeline(ivy)).toContainText('Second reflection, left side');
  await ana.keyboard.press('Control+Z');
  await expect(timeline(ivy)).not.toContainText('Second reflection, left side');

  for (const [who, shot] of [
    [ivy, 'evidence page, desktop'],
    [ana, 'evidence page, colleague'],
  ] as const) {
    await testInfo.attach(shot, {
      body: await who.screenshot({ fullPage: true }),
      contentType: 'image/png',
    });
  }
  await ivy.setViewportSize({ width: 390, height: 844 });
  await testInfo.attach('evidence page, 390 px', {
    body: await ivy.screenshot({ fullPage: true }),
    contentType: 'image/png',
  });
});

test('two investigators offline: annotations and the summary both survive the merge', async ({
  page,
  browser,
  exhibit,
}) => {
  const { ivy, ana, casePage, evidencePage } = await caseWithPhoto({ page, browser, exhibit });
  await ivy.goto(evidencePage);
  await ana.goto(casePage);
  await expect(panel(ivy).getByTestId('presence')).toContainText(ANA.name);
  await waitForOfflineReady(ivy);
  await waitForOfflineReady(ana);

  await ivy.context().setOffline(true);
  await ana.context().setOffline(true);
  // Ivy annotates the photo with no connection.
  await addNote(ivy, 'Offline: glove print on the frame');
  await drawRegion(ivy, 'Glove print');
  await comment(ivy, 'evidence', 'Written in the basement, no signal');
  // Ana, also offline, renames the case and tags it.
  await ana.getByRole('button', { name: 'Edit summary' }).click();
  const summary = ana.getByRole('form', { name: 'Edit summary' });
  await summary.getByLabel('Title').fill('Robbery, Canal St (armed)');
  await summary.getByLabel('Tags').fill('firearm');
  await summary.getByRole('button', { name: 'Add', exact: true }).click();
  await summary.getByRole('button', { name: 'Save summary' }).click();
  await expect(ana.getByRole('heading', { level: 1 })).toHaveText('Robbery, Canal St (armed)');
  // Neither has the other's work while the connection is cut.
  await expect(ana.getByTestId('doc-state')).toHaveText(/Saved on this device|Saving to server/);
  await expect(ivy.getByRole('link', { name: '← Robbery, Canal St', exact: true })).toBeVisible();

  await ivy.context().setOffline(false);
  await ana.context().setOffline(false);
  for (const who of [ivy, ana]) {
    await expect(who.getByTestId('sync-status')).toHaveText('All changes saved', {
      timeout: 30_000,
    });
  }

  // Both see everything: Ana's status change on Ivy's side, Ivy's annotations on Ana's.
  await ivy.goto(casePage);
  await expect(ivy.getByRole('heading', { level: 1 })).toHaveText('Robbery, Canal St (armed)');
  await expect(ivy.getByLabel('Tags')).toContainText('firearm');
  await ana.goto(evidencePage);
  await expect(timeline(ana)).toContainText('Offline: glove print on the frame');
  await expect(timeline(ana)).toContainText('Glove print');
  await expect(panel(ana)).toContainText('Written in the basement, no signal');
  await expect(ana.getByTestId('region-layer').locator('rect')).toHaveCount(1);
});

test('on a video, annotations and presence carry the time, and a click seeks there', async ({
  page,
  browser,
  exhibit,
}) => {
  const dir = await mkdtemp(join(tmpdir(), 'exhibit-e2e-collaboration-'));
  await ffmpeg(dir, 'platform-cam.mp4', [
    ...['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-t', '4'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'],
  ]);
  const { ivy, ana, evidencePage } = await caseWithPhoto(
    { page, browser, exhibit },
    join(dir, 'platform-cam.mp4'),
  );
  await rm(dir, { recursive: true, force: true });
  await ivy.goto(evidencePage);
  await ana.goto(evidencePage);
  const seek = (who: Page, seconds: number) =>
    who.locator('video').evaluate(
      (v: HTMLVideoElement, to: number) =>
        new Promise<void>((resolve) => {
          v.addEventListener('seeked', () => resolve(), { once: true });
          v.currentTime = to;
        }),
      seconds,
    );
  await expect
    .poll(() => ivy.locator('video').evaluate((v: HTMLVideoElement) => v.duration))
    .toBeGreaterThan(3);
  await seek(ivy, 2);
  await expect(panel(ivy).getByTestId('note-time')).toHaveText('0:02.00');
  await expect(panel(ana).getByTestId('presence')).toContainText(
    `${IVY.name} viewing this item at 0:02.00`,
  );

  await panel(ivy).getByLabel('Bookmark label').fill('Man enters frame');
  await panel(ivy).getByRole('button', { name: 'Bookmark', exact: true }).click();
  await panel(ivy).getByLabel(/^Note/).fill('Running towards the exit');
  await seek(ivy, 3.5);
  await panel(ivy).getByRole('button', { name: 'Now' }).click();
  await seek(ivy, 2);
  await panel(ivy).getByRole('button', { name: 'Add note' }).click();
  await drawRegion(ivy, 'Bag');
  await expect(timeline(ana).getByRole('listitem')).toHaveText([
    /Bookmark\s*0:02.00\s*Man enters frame/,
    // The end is the time of the frame shown after seeking to 3.5 s: 3.48 or 3.50.
    /Note\s*0:02.00–0:03.(48|50)\s*Running towards the exit/,
    /Region\s*0:02.00\s*Bag/,
  ]);
  // A region belongs to its frame: away from it, it is not drawn.
  await expect(ivy.getByTestId('region-layer').locator('rect')).toHaveCount(1);
  await seek(ivy, 0.5);
  await expect(ivy.getByTestId('region-layer').locator('rect')).toHaveCount(0);

  // Ana clicks the bookmark: her player goes there.
  await timeline(ana)
    .getByRole('button', { name: /Man enters frame/ })
    .click();
  await expect
    .poll(() => ana.locator('video').evaluate((v: HTMLVideoElement) => v.currentTime))
    .toBeCloseTo(2, 1);
  await expect(ana.getByTestId('region-layer').locator('rect')).toHaveCount(1);
});
