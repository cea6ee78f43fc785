// Reviewing evidence in Chromium: the video player (frames, timecode, recorded time, speed,
// zoom), a PDF, a CCTV export Chromium cannot play turned into a playable copy by ffmpeg.wasm in
// the page, and two cameras' clips played side by side on their recorded times.
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect, createCase, setUpAdministrator } from './fixtures.ts';
import { ffmpeg } from '../helpers/media-fixtures.ts';

let dir = '';
let aviSha256 = '';

/** A one-page PDF written by hand: a line of text over a blue box. */
function onePagePdf(): Buffer {
  const content = 'BT /F1 24 Tf 30 140 Td (Witness statement) Tj ET 0 0 1 rg 30 30 240 60 re f';
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) out += `${String(offset).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

test.beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'exhibit-e2e-viewers-'));
  const pattern = (seconds: number) => [
    ...['-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=25`, '-t', String(seconds)],
  ];
  const h264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];
  // Two cameras on one incident: the second started recording a second after the first.
  await ffmpeg(dir, 'platform-cam-1.mp4', [
    ...pattern(3),
    ...h264,
    ...['-metadata', 'creation_time=2024-05-01T10:00:00Z'],
  ]);
  await ffmpeg(dir, 'platform-cam-2.mp4', [
    ...pattern(3),
    ...h264,
    ...['-metadata', 'creation_time=2024-05-01T10:00:01Z'],
  ]);
  // A DVR export: MPEG-4 Part 2 in AVI, which Chromium can neither demux nor decode.
  const avi = await ffmpeg(dir, 'dvr-export.avi', [
    ...pattern(2),
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=8000', '-t', '2'],
    ...['-c:v', 'mpeg4', '-q:v', '5', '-c:a', 'pcm_mulaw'],
  ]);
  aviSha256 = createHash('sha256').update(avi).digest('hex');
  await writeFile(join(dir, 'statement.pdf'), onePagePdf());
});

test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function upload(page: Page, names: string[]): Promise<void> {
  await page.getByTestId('file-input').setInputFiles(names.map((n) => join(dir, n)));
  for (const name of names) {
    const item = page.getByTestId('evidence-item').filter({ hasText: name });
    await expect(item.getByTestId('evidence-state')).toHaveText('verified', { timeout: 30_000 });
  }
}

async function open(page: Page, name: string): Promise<void> {
  await page
    .getByTestId('evidence-item')
    .filter({ hasText: name })
    .getByTestId('evidence-open')
    .click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: test.info().outputPath(`${name}.png`), fullPage: true });
}

test('a video steps by frames with timecode and recorded time, changes speed and zooms; a PDF shows; two clips play aligned', async ({
  page,
  exhibit,
}) => {
  test.setTimeout(120_000);
  await setUpAdministrator(page, exhibit);
  await createCase(page, { title: 'Assault, platform 4' });
  await upload(page, ['platform-cam-1.mp4', 'platform-cam-2.mp4', 'statement.pdf']);
  // Metadata (recorded times) is read after the upload; the timeline needs it.
  await expect(
    page.getByTestId('evidence-item').filter({ hasText: 'platform-cam-2.mp4' }),
  ).toContainText('2024', { timeout: 20_000 });
  const casePage = page.url();

  await open(page, 'platform-cam-1.mp4');
  const player = page.getByTestId('video-player');
  const video = page.getByTestId('evidence-video');
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState))
    .toBeGreaterThanOrEqual(2);
  const timecode = page.getByTestId('timecode');
  await expect(timecode).toHaveText('00:00:00:00');
  await player.focus();
  await page.keyboard.press('ArrowRight');
  await expect(timecode).toHaveText('00:00:00:01');
  await page.keyboard.press('ArrowRight');
  await expect(timecode).toHaveText('00:00:00:02');
  await page.keyboard.press('ArrowLeft');
  await expect(timecode).toHaveText('00:00:00:01');
  await page.getByRole('button', { name: 'Next frame' }).click();
  await expect(timecode).toHaveText('00:00:00:02');
  expect(await video.evaluate((v: HTMLVideoElement) => v.currentTime)).toBeCloseTo(0.1, 2);
  await expect(page.getByTestId('recorded-time')).toHaveText('2024-05-01 10:00:00.080 UTC'); // when frame 2 began;
  await page.keyboard.press('l');
  await expect(timecode).toHaveText('00:00:01:02');

  await page.getByTestId('speed').selectOption('0.5');
  expect(await video.evaluate((v: HTMLVideoElement) => v.playbackRate)).toBe(0.5);
  await player.focus();
  await page.keyboard.press(']');
  expect(await video.evaluate((v: HTMLVideoElement) => v.playbackRate)).toBe(0.75);

  const stage = page.getByTestId('zoom-stage');
  const overlay = page.getByTestId('picture-overlay');
  const fitted = await stage.boundingBox();
  await page.getByRole('button', { name: 'Zoom in' }).click();
  await expect(page.getByTestId('zoom-level')).toHaveText('150%');
  const zoomed = await overlay.boundingBox();
  expect(zoomed!.width).toBeCloseTo(fitted!.width * 1.5, 0);
  // Dragging pans the zoomed picture; the overlay moves with it.
  await page.mouse.move(fitted!.x + fitted!.width / 2, fitted!.y + fitted!.height / 2);
  await page.mouse.down();
  await page.mouse.move(fitted!.x + fitted!.width / 2 + 40, fitted!.y + fitted!.height / 2);
  await page.mouse.up();
  expect((await overlay.boundingBox())!.x).toBeGreaterThan(zoomed!.x + 20);
  await shoot(page, 'video-desktop');
  await page.setViewportSize({ width: 390, height: 844 });
  await shoot(page, 'video-phone');
  await player.focus();
  await page.keyboard.press('0');
  await expect(page.getByTestId('zoom-level')).toHaveText('100%');
  await page.setViewportSize({ width: 1280, height: 720 });

  await page.goto(casePage);
  await open(page, 'statement.pdf');
  await expect(page.getByTestId('pdf-page')).toHaveText('Page 1 of 1');
  await expect(page.getByTestId('pdf-canvas')).toHaveAttribute('data-rendered', '1');
  // The blue box is drawn: the page is rendered, not just a blank canvas.
  const blue = await page.getByTestId('pdf-canvas').evaluate((c: HTMLCanvasElement) => {
    const g = c.getContext('2d')!;
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let count = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 2]! > 200 && d[i]! < 50) count++;
    return count;
  });
  expect(blue).toBeGreaterThan(1000);
  await shoot(page, 'pdf-desktop');

  await page.goto(casePage);
  const together = page.getByTestId('play-together');
  await together.getByText('Play videos together').click();
  await together.getByLabel('platform-cam-1.mp4').check();
  await together.getByLabel('platform-cam-2.mp4').check();
  await together.getByRole('button', { name: 'Play together' }).click();
  await expect(page.getByRole('heading', { name: 'Play together' })).toBeVisible();
  const clips = page.getByTestId('sync-clip');
  await expect(clips).toHaveCount(2);
  await expect(clips.nth(0)).toHaveAttribute('data-start', '0');
  await expect(clips.nth(1)).toHaveAttribute('data-start', '1');
  const videos = page.getByTestId('sync-player').locator('video');
  for (const v of await videos.all()) {
    await expect
      .poll(() => v.evaluate((e: HTMLVideoElement) => e.readyState))
      .toBeGreaterThanOrEqual(2);
  }
  await expect(clips.nth(1)).toContainText('starts in 1.0 s');
  await page.getByTestId('play-toggle').click();
  await expect
    .poll(() => page.getByTestId('sync-player').getAttribute('data-time').then(Number), {
      timeout: 10_000,
    })
    .toBeGreaterThan(1.6);
  await page.getByTestId('play-toggle').click();
  const [a, b] = await Promise.all(
    (await videos.all()).map((v) => v.evaluate((e: HTMLVideoElement) => e.currentTime)),
  );
  expect(a! - b!).toBeCloseTo(1, 0);
  // The timeline's clock is the first camera's: 10:00:00 plus where the timeline stands.
  const at = Number(await page.getByTestId('sync-player').getAttribute('data-time'));
  const clock = await page.getByTestId('recorded-time').textContent();
  expect(clock).toMatch(/^2024-05-01 10:00:\d\d\.\d{3}$/);
  expect(Number(clock!.slice(-6))).toBeCloseTo(at, 2);
  await shoot(page, 'sync-desktop');
  await page.setViewportSize({ width: 390, height: 844 });
  await shoot(page, 'sync-phone');
});

test('a DVR export Chromium cannot play gets a playable copy made in the browser; the original stays the evidence', async ({
  page,
  exhibit,
}) => {
  test.setTimeout(150_000);
  await setUpAdministrator(page, exhibit);
  await createCase(page, { title: 'Robbery, Kiosk 7' });
  await upload(page, ['dvr-export.avi']);
  await open(page, 'dvr-export.avi');
  const offer = page.getByTestId('proxy-offer');
  await expect(offer).toContainText('does not play in the browser');
  await expect(page.getByTestId('original-sha256')).toHaveText(aviSha256);
  await shoot(page, 'proxy-offer');
  await page.getByTestId('make-proxy').click();
  await expect(page.getByTestId('proxy-progress')).toBeVisible();
  await expect(page.getByTestId('proxy-note')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('proxy-note')).toContainText('re-encoded to H.264');
  const video = page.getByTestId('evidence-video');
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 20_000 })
    .toBeGreaterThanOrEqual(2);
  const src = await video.evaluate((v: HTMLVideoElement) => v.currentSrc);
  expect(src).not.toContain(aviSha256);
  expect(await video.evaluate((v: HTMLVideoElement) => v.duration)).toBeCloseTo(2, 0);
  // The evidence is still the original, byte for byte.
  await expect(page.getByTestId('original-sha256')).toHaveText(aviSha256);
  const stored = await page.evaluate(async (sha) => {
    const bytes = await (await fetch(`/api/blobs/${sha}`)).arrayBuffer();
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
  }, aviSha256);
  expect(stored).toBe(aviSha256);
  await page.keyboard.press('Tab');
  await page.getByTestId('video-player').focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('timecode')).toHaveText('00:00:00:01');
  await shoot(page, 'proxy-playing');
});
