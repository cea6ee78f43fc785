// Playback streams evidence with range requests: seeking near the end of a large video fetches
// the part around the new position, never the whole file.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, expect, createCase, setUpAdministrator } from './fixtures.ts';
import { ffmpeg } from '../helpers/media-fixtures.ts';

let dir = '';
let videoPath = '';
let videoSize = 0;
let videoSha256 = '';

test.beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'exhibit-e2e-playback-'));
  videoPath = join(dir, 'cctv-platform-4.mp4');
  // Noise keeps it large (about 150 MB for 3 s) so reading it whole would show.
  await ffmpeg(dir, 'cctv-platform-4.mp4', [
    ...['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-t', '3'],
    ...['-vf', 'noise=alls=60:allf=t', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '4'],
    // A keyframe every second, as CCTV recorders write them: a seek decodes from the one before.
    ...['-g', '30'],
    ...['-pix_fmt', 'yuv420p', '-movflags', '+faststart'],
  ]);
  videoSize = (await stat(videoPath)).size;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(videoPath)) hash.update(chunk as Buffer);
  videoSha256 = hash.digest('hex');
});

test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('seeking near the end of a large video fetches only ranges of it', async ({
  page,
  exhibit,
}) => {
  test.setTimeout(180_000);
  await setUpAdministrator(page, exhibit);
  await createCase(page, { title: 'Assault, platform 4' });
  await page.getByTestId('file-input').setInputFiles(videoPath);
  const evidence = page.getByTestId('evidence-item').filter({ hasText: 'cctv-platform-4.mp4' });
  await expect(evidence.getByTestId('evidence-state')).toHaveText('verified', { timeout: 120_000 });

  // What actually arrives, chunk by chunk: the player cancels requests once it has enough, and
  // a cancelled request's own size figures say what was announced, not what came.
  let served = 0;
  const ranges: string[] = [];
  const playerRequests = new Set<string>();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  cdp.on('Network.requestWillBeSent', (event) => {
    if (!event.request.url.includes(`/api/blobs/${videoSha256}`)) return;
    playerRequests.add(event.requestId);
    ranges.push(event.request.headers['Range'] ?? event.request.headers['range'] ?? 'whole');
  });
  cdp.on('Network.dataReceived', (event) => {
    if (playerRequests.has(event.requestId)) served += event.dataLength;
  });
  await evidence.getByRole('button', { name: /Show preview/ }).click();
  const video = evidence.locator('video');
  await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.duration)).toBeGreaterThan(2);
  await video.evaluate(
    (v: HTMLVideoElement) =>
      new Promise<void>((resolve) => {
        v.addEventListener('seeked', () => resolve(), { once: true });
        v.currentTime = v.duration - 0.2;
      }),
  );
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState))
    .toBeGreaterThanOrEqual(2);
  await page.waitForTimeout(500);
  expect(ranges.length, 'the player asked for the file').toBeGreaterThan(0);
  expect(
    ranges.every((range) => range.startsWith('bytes=')),
    ranges.join(', '),
  ).toBe(true);
  test.info().annotations.push({
    type: 'fetched',
    description: `${served} of ${videoSize} bytes in ${ranges.length} requests: ${ranges.join(', ')}`,
  });
  expect(served, `${served} of ${videoSize} bytes were fetched`).toBeLessThan(videoSize / 2);
});
