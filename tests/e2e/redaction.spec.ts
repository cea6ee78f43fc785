// The redaction studio in Chromium: a video with a face is uploaded, its faces found on the
// device, one chosen and a redacted copy rendered; the copy joins the case as new evidence linked
// to its original, whose file is unchanged. A colleague who may only view the case is offered no
// controls, and recipes that cannot be rendered are refused with a reason.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from '@playwright/test';
import {
  ANA,
  IVY,
  accessTokenOf,
  addMember,
  createAccount,
  expect,
  investigatorWithCase,
  seriousViolations,
  signInElsewhere,
  test,
} from './fixtures.ts';
import { fixturePath } from '../helpers/fixtures.ts';
import { ffmpeg, greyFrame, meanDifference } from '../helpers/media-fixtures.ts';
import { TestPeer } from '../helpers/sync-client.ts';
import { readRecipe, readRenders, selectTracks } from '../../web/lib/shared/redaction-doc.ts';

const run = promisify(execFile);
const VIDEO = 'lobby-camera.mp4';
const COPY = 'lobby-camera (redacted).mp4';
/** Where the astronaut's face is in the composed video, in pixels (640×360). */
const FACE = { x: 300, y: 80, w: 45, h: 50 };
/** A stretch of the test pattern far from both faces. */
const BACKGROUND = { x: 570, y: 295, w: 50, h: 50 };

let dir = '';
let videoSha256 = '';
const shots = process.env.REDACTION_SHOTS;

test.beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'exhibit-e2e-redaction-'));
  // The fixture portrait (its face about 55 pixels wide) over a moving test pattern, with a tone,
  // and from 3 s a second, smaller one in the corner: two people.
  const video = await ffmpeg(dir, VIDEO, [
    ...['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25'],
    ...['-loop', '1', '-i', fixturePath('astronaut.png')],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
    ...[
      '-filter_complex',
      '[1]split[a][b];[a]scale=280:280[p];[b]scale=200:200[q];' +
        '[0][p]overlay=x=200:y=40:shortest=1[v1];' +
        "[v1][q]overlay=x=0:y=0:enable='gte(t,3)'[v]",
    ],
    ...['-map', '[v]', '-map', '2', '-t', '6'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac'],
  ]);
  videoSha256 = createHash('sha256').update(video).digest('hex');
  if (shots) await mkdir(shots, { recursive: true });
});

test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function shoot(page: Page, name: string): Promise<void> {
  if (shots) await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/**
 * Every packet of every stream (its time, size and MD5), as ffmpeg lists them: two files with the
 * same list hold the same video and sound, however the muxer laid them out and stamped them.
 */
async function packetsOf(path: string): Promise<string> {
  const bin = process.env.FFMPEG_PATH ?? 'ffmpeg';
  const args = ['-v', 'error', '-i', path, '-map', '0', '-c', 'copy', '-f', 'framemd5', '-'];
  const { stdout } = await run(bin, args, { maxBuffer: 1 << 24 });
  return stdout;
}

test('faces found and chosen, a redacted copy rendered into the case, linked to its untouched original', async ({
  page,
  browser,
  exhibit,
}) => {
  test.setTimeout(240_000);
  const { ivy, caseId } = await investigatorWithCase(page, browser, exhibit);
  await createAccount(exhibit, ANA, 'analyst');
  await addMember(ivy, ANA);
  await ivy.getByTestId('file-input').setInputFiles(join(dir, VIDEO));
  const row = ivy.getByTestId('evidence-item').filter({ hasText: VIDEO });
  await expect(row.getByTestId('evidence-state')).toHaveText('verified', { timeout: 30_000 });
  await row.getByTestId('evidence-open').click();
  await expect(ivy.getByRole('heading', { level: 1 })).toHaveText(VIDEO);
  const evidencePage = ivy.url();
  const evidenceId = evidencePage.split('/').pop() ?? '';

  await ivy.getByTestId('redact-link').click();
  await expect(ivy.getByRole('heading', { level: 1 })).toHaveText(`Redact ${VIDEO}`);
  expect(await seriousViolations(ivy)).toEqual([]);

  // Nothing chosen: the render is refused, saying what to do.
  await ivy.getByRole('button', { name: 'Render redacted copy' }).click();
  await expect(ivy.getByTestId('render-problem')).toContainText('Nothing to redact yet');

  // Finding faces can be stopped; nothing is kept then.
  const findFaces = ivy.getByRole('button', { name: 'Find faces', exact: true });
  await findFaces.click();
  await ivy.getByTestId('analysis-progress').getByRole('button', { name: 'Cancel' }).click();
  await expect(ivy.getByTestId('analysis-progress')).toHaveCount(0);
  await expect(findFaces).toBeVisible();

  await findFaces.click();
  await expect(ivy.getByTestId('analysis-progress').getByRole('progressbar')).toBeVisible();
  const faces = ivy.getByTestId('face-track');
  await expect(faces.nth(1)).toBeVisible({ timeout: 90_000 });
  const found = await faces.count();
  await expect(faces.first().getByTestId('face-thumbnail')).toBeVisible({ timeout: 30_000 });
  await shoot(ivy, 'studio-desktop');

  // A colleague's device chooses a face this analysis does not have: the render says so.
  const peer = new TestPeer(
    `${exhibit.url.replace('http', 'ws')}/sync`,
    `case.${caseId}`,
    await accessTokenOf(exhibit, IVY),
  );
  try {
    await peer.synced(10_000);
    selectTracks(peer.doc, evidenceId, ['ghost-track']);
    await peer.savedOnServer(10_000);
  } finally {
    peer.destroy();
  }
  await expect(ivy.getByTestId('recipe-summary')).toContainText('1 face');
  await ivy.getByRole('button', { name: 'Render redacted copy' }).click();
  await expect(ivy.getByTestId('render-problem')).toContainText(
    'the face analysis does not have (ghost-track)',
  );

  // All, then all but one; two faces of one person merged into one, and separated again.
  const count = ivy.getByTestId('face-count');
  await ivy.getByRole('button', { name: 'Select none' }).click();
  await expect(count).toContainText(`${found} faces found · 0 to redact`);
  await ivy.getByRole('button', { name: 'Select all' }).click();
  await expect(count).toContainText(`· ${found} to redact`);
  await faces.last().getByRole('checkbox').uncheck();
  await expect(count).toContainText(`· ${found - 1} to redact`);
  await ivy.getByLabel('Keep').selectOption({ label: 'Face 1' });
  await ivy.getByLabel('The same person as').selectOption({ label: 'Face 2' });
  await ivy.getByRole('button', { name: 'Merge' }).click();
  await expect(faces).toHaveCount(found - 1);
  await ivy.getByRole('button', { name: 'Separate' }).click();
  await expect(faces).toHaveCount(found);
  await ivy.getByRole('button', { name: 'Select all' }).click();
  await expect(count).toContainText(`· ${found} to redact`);

  expect(await seriousViolations(ivy)).toEqual([]);

  // A render can be stopped too: no copy joins the case.
  const render = ivy.getByRole('button', { name: 'Render redacted copy' });
  await render.click();
  await ivy.getByTestId('render-progress').getByRole('button', { name: 'Cancel' }).click();
  await expect(ivy.getByTestId('render-progress')).toHaveCount(0);
  await expect(ivy.getByTestId('render-done')).toHaveCount(0);

  // A mask drawn by hand, a stretch of sound and the style go into the same recipe.
  await ivy
    .getByRole('toolbar', { name: 'Draw a mask' })
    .getByRole('button', { name: 'Rectangle' })
    .click();
  await ivy.getByRole('button', { name: 'place one in the middle' }).click();
  await expect(ivy.getByTestId('mask-item')).toHaveCount(1);
  await ivy.getByRole('button', { name: /^Add a range at/ }).click();
  await expect(ivy.getByTestId('audio-range')).toHaveCount(1);
  // Undo takes back her own last change; redo puts it back.
  const changes = ivy.getByRole('group', { name: 'Your changes to the recipe' });
  await changes.getByRole('button', { name: 'Undo' }).click();
  await expect(ivy.getByTestId('audio-range')).toHaveCount(0);
  await expect(ivy.getByTestId('mask-item')).toHaveCount(1);
  await changes.getByRole('button', { name: 'Redo' }).click();
  await expect(ivy.getByTestId('audio-range')).toHaveCount(1);
  await ivy.getByRole('radio', { name: 'Pixelate' }).check();
  await expect(ivy.getByTestId('recipe-summary')).toHaveText(
    `Hides ${found} faces, 1 drawn mask, 1 stretch of sound.`,
  );
  expect(await seriousViolations(ivy)).toEqual([]);
  await render.click();
  await expect(ivy.getByTestId('render-progress')).toBeVisible();
  const done = ivy.getByTestId('render-done');
  await expect(done).toContainText(COPY, { timeout: 120_000 });
  // Six seconds at 25 frames a second, the drawn mask on every one.
  await expect(done.getByTestId('masked-frames')).toHaveText('150 of 150');
  await expect(ivy.getByTestId('render-problem')).toHaveCount(0);

  // The copy is new evidence, linked both ways, and the original's file is the one uploaded.
  await done.getByRole('link', { name: COPY }).click();
  await expect(ivy.getByRole('heading', { level: 1 })).toHaveText(COPY);
  await expect(ivy.getByTestId('redaction-of')).toContainText(`Redacted copy of ${VIDEO}`);
  await shoot(ivy, 'copy-page');
  await expect(ivy.getByTestId('original-sha256')).not.toBeEmpty({ timeout: 60_000 });
  const copySha256 = (await ivy.getByTestId('original-sha256').textContent()) ?? '';
  expect(copySha256).toMatch(/^[0-9a-f]{64}$/);
  expect(copySha256).not.toBe(videoSha256);

  await ivy.goto(evidencePage);
  await expect(ivy.getByTestId('redacted-copies')).toContainText(COPY);
  await expect(ivy.getByTestId('original-sha256')).toHaveText(videoSha256);
  await shoot(ivy, 'original-page');

  // What the server holds under the original's digest is still the uploaded file; the copy
  // differs from it where the face is, and hardly elsewhere.
  const token = await accessTokenOf(exhibit, IVY);
  const fetchBlob = async (sha256: string) => {
    const response = await fetch(`${exhibit.url}/api/blobs/${sha256}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    return Buffer.from(await response.arrayBuffer());
  };
  const stored = await fetchBlob(videoSha256);
  expect(createHash('sha256').update(stored).digest('hex')).toBe(videoSha256);
  const copy = await fetchBlob(copySha256);
  await writeFile(join(dir, 'copy.mp4'), copy);
  const before = await greyFrame(join(dir, VIDEO), 1);
  const after = await greyFrame(join(dir, 'copy.mp4'), 1);
  const onFace = meanDifference(before, after, 640, FACE);
  const elsewhere = meanDifference(before, after, 640, BACKGROUND);
  expect(onFace, `face changed by ${onFace}, background by ${elsewhere}`).toBeGreaterThan(
    elsewhere * 3 + 4,
  );

  // The recipe in the case document names the analysis and the face chosen.
  const reader = new TestPeer(`${exhibit.url.replace('http', 'ws')}/sync`, `case.${caseId}`, token);
  try {
    await reader.synced(10_000);
    const recipe = readRecipe(reader.doc, evidenceId, videoSha256);
    expect(recipe.faces.analysis).toMatch(/^[0-9a-f]{64}$/);
    expect(recipe.faces.selected).toHaveLength(found);
    expect(recipe.style.kind).toBe('pixelate');
    expect(recipe.masks).toHaveLength(1);
    expect(recipe.audio.ranges).toHaveLength(1);
  } finally {
    reader.destroy();
  }

  // Ana may only view the case: no Redact link, and the studio offers her nothing to change.
  const ana = await signInElsewhere(browser, exhibit.url, ANA);
  await ana.goto(evidencePage);
  await expect(ana.getByRole('heading', { level: 1 })).toHaveText(VIDEO);
  await expect(ana.getByTestId('redacted-copies')).toContainText(COPY);
  await expect(ana.getByTestId('redact-link')).toHaveCount(0);
  await ana.goto(`${evidencePage}/redact`);
  await expect(ana.getByTestId('view-only')).toBeVisible();
  await expect(ana.getByTestId('presence')).toContainText('Ivy Investigator viewing this item');
  await expect(ana.getByRole('button', { name: /Find faces|Render/ })).toHaveCount(0);
  await expect(ana.getByTestId('mask-editor')).toHaveCount(0);
  await expect(ana.getByTestId('audio-ranges')).toHaveCount(0);
  // What she can change is what she sees: the masks over the picture, or not.
  await expect(ana.getByRole('checkbox')).toHaveAccessibleName('Show the masks on the picture');

  // At phone width the studio stacks: the player first, then the panels.
  await ivy.setViewportSize({ width: 390, height: 844 });
  await ivy.goto(`${evidencePage}/redact`);
  await expect(ivy.getByTestId('face-track').first()).toBeVisible({ timeout: 30_000 });
  const overflow = await ivy.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBeLessThanOrEqual(0);
  await shoot(ivy, 'studio-390');

  // The recipe is all a render needs: rendering it again makes the same video.
  await expect(ivy.getByTestId('same-recipe')).toContainText(COPY);
  await ivy.getByRole('button', { name: 'Render redacted copy' }).click();
  await expect(ivy.getByTestId('render-done')).toBeVisible({ timeout: 120_000 });
  const again = new TestPeer(`${exhibit.url.replace('http', 'ws')}/sync`, `case.${caseId}`, token);
  try {
    await again.synced(10_000);
    await expect.poll(() => readRenders(again.doc, evidenceId).length, { timeout: 10_000 }).toBe(2);
    const [first, second] = readRenders(again.doc, evidenceId);
    expect(first?.recipeHash).toBe(second?.recipeHash);
    expect(first?.sha256).toBe(copySha256);
    // The same packets, once the second copy has reached the server. The bytes differ: the MP4
    // says when it was made, and the muxer interleaves sound and picture as the encoders finish.
    const secondSha256 = second?.sha256 ?? '';
    await expect
      .poll(
        async () =>
          (
            await fetch(`${exhibit.url}/api/blobs/${secondSha256}`, {
              method: 'HEAD',
              headers: { authorization: `Bearer ${token}` },
            })
          ).status,
        { timeout: 60_000 },
      )
      .toBe(200);
    const secondCopy = await fetchBlob(secondSha256);
    expect(secondCopy.length).toBe(copy.length);
    await writeFile(join(dir, 'again.mp4'), secondCopy);
    const packets = await packetsOf(join(dir, 'copy.mp4'));
    expect(packets.split('\n').length).toBeGreaterThan(100);
    expect(await packetsOf(join(dir, 'again.mp4'))).toBe(packets);
  } finally {
    again.destroy();
  }
});
