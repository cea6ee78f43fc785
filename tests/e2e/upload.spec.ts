// Resumable evidence ingest in the PWA against the real server: picker, drag and drop and paste,
// thumbnails and metadata, and uploads that survive going offline, a reload, pause and cancel.
import { build } from 'esbuild';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BrowserContext, Page, Request } from '@playwright/test';
import type { openLocalDb } from '../../web/lib/db/local-db.ts';
import {
  test,
  expect,
  createAccount,
  createCase,
  setUpAdministrator,
  signInElsewhere,
  throttleUploads,
  ADMIN,
  ANA,
  IVY,
  type ExhibitProcess,
} from './fixtures.ts';
import { fixturePath } from '../helpers/fixtures.ts';
import { ffmpeg, patternWithTone } from '../helpers/media-fixtures.ts';

const MB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

declare global {
  var exhibitDb: { openLocalDb: typeof openLocalDb };
}

// Uploads are throttled and cut through this page's DevTools session; a service worker in between
// would make the requests its own, out of that session's reach. These tests are not about it.
test.use({ serviceWorkers: 'block' });

let dir = '';
let video: Uint8Array;
let videoPath = '';
/** 40 MiB of random bytes, on disk: Playwright hands large files to the page by path. */
let largePath = '';
let large: Buffer;

test.beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'exhibit-e2e-upload-'));
  videoPath = join(dir, 'scene.mp4');
  video = await ffmpeg(dir, 'scene.mp4', [
    ...patternWithTone(320, 240, 2),
    ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac'],
  ]);
  large = randomBytes(40 * MB);
  largePath = join(dir, 'cctv-export.bin');
  await writeFile(largePath, large);
});

/** Playwright takes files by path or by content, never both at once: these go by path. */
async function onDisk(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface SeenUpload {
  method: string;
  offset?: number;
  status?: number;
}

/**
 * Every request to the upload endpoint, in order: `list()` reads their headers as sent (the
 * request event alone may carry only provisional ones) and the status each got.
 */
function recordUploads(context: BrowserContext): {
  count(): number;
  list(): Promise<SeenUpload[]>;
} {
  const seen: Request[] = [];
  context.on('request', (request: Request) => {
    if (new URL(request.url()).pathname.startsWith('/api/uploads')) seen.push(request);
  });
  return {
    count: () => seen.length,
    list: () =>
      Promise.all(
        seen.map(async (request) => {
          const offset = (await request.allHeaders())['upload-offset'];
          const status = (await request.response().catch(() => null))?.status();
          return {
            method: request.method(),
            ...(offset !== undefined ? { offset: Number(offset) } : {}),
            ...(status !== undefined ? { status } : {}),
          };
        }),
      ),
  };
}

/** Signs in, opens a new case and adds files to it over a slowed connection. */
async function startUploading(
  page: Page,
  exhibit: ExhibitProcess,
  title: string,
  paths: string[],
): Promise<ReturnType<typeof recordUploads>> {
  await setUpAdministrator(page, exhibit);
  await createCase(page, { title });
  await throttleUploads(page, 4 * MB);
  const requests = recordUploads(page.context());
  await page.getByTestId('file-input').setInputFiles(paths);
  return requests;
}

/** Bytes sent so far, as the upload panel shows them ("12.6 MB of 41.9 MB"). */
async function sentOf(page: Page, name: string): Promise<number> {
  const text = await page
    .getByTestId('upload-item')
    .filter({ hasText: name })
    .getByTestId('upload-detail')
    .innerText();
  const match = /^([\d.]+) (B|KB|MB|GB)/.exec(text);
  // Before any byte is sent the file is hashed on the device ("Hashing …"): nothing sent yet.
  if (!match) return 0;
  const unit = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9 }[match[2] as 'B' | 'KB' | 'MB' | 'GB'];
  return Number(match[1]) * unit;
}

function evidenceItem(page: Page, name: string) {
  return page.getByTestId('evidence-item').filter({ hasText: name });
}

test('files added by picker, by drag and drop and by paste are all verified, with thumbnails and metadata', async ({
  page,
  exhibit,
}) => {
  await setUpAdministrator(page, exhibit);
  await createCase(page, { title: 'Robbery at the jeweller' });
  // The picker, opened from the keyboard.
  await page.getByRole('button', { name: 'Add files' }).focus();
  const chooser = page.waitForEvent('filechooser');
  await page.keyboard.press('Enter');
  await (
    await chooser
  ).setFiles([
    fixturePath('astronaut.png'),
    videoPath,
    await onDisk('statement.txt', Buffer.from('I saw a red car.\n')),
    await onDisk('empty.log', new Uint8Array()),
  ]);
  // A file dragged from the desktop onto the case page.
  const dropped = await page.evaluateHandle(() => {
    const transfer = new DataTransfer();
    transfer.items.add(new File(['dropped bytes'], 'dropped.dat', { type: '' }));
    return transfer;
  });
  await page.getByTestId('drop-zone').dispatchEvent('drop', { dataTransfer: dropped });
  // And one pasted from the clipboard.
  await page.evaluate(() => {
    const transfer = new DataTransfer();
    transfer.items.add(new File(['pasted'], 'pasted.txt', { type: 'text/plain' }));
    window.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer }));
  });

  const items = page.getByTestId('evidence-item');
  await expect(items).toHaveCount(6);
  for (const state of await items.getByTestId('evidence-state').all()) {
    await expect(state).toHaveText('verified', { timeout: 30_000 });
  }
  await expect(page.getByTestId('upload-panel')).toBeHidden();

  const png = await readFile(fixturePath('astronaut.png'));
  const astronaut = evidenceItem(page, 'astronaut.png');
  await expect(astronaut).toContainText(sha256(png));
  await expect(astronaut).toContainText(`added by ${ADMIN.name}`);
  await expect(astronaut).toContainText('Server’s SHA-256 matches');
  await expect(evidenceItem(page, 'empty.log')).toContainText(sha256(new Uint8Array()));
  await expect(evidenceItem(page, 'dropped.dat')).toContainText(
    sha256(Buffer.from('dropped bytes')),
  );
  await expect(evidenceItem(page, 'dropped.dat')).toContainText('application/octet-stream');

  // Thumbnails are stored on the server and load from it, for the picture and for the video.
  for (const name of ['astronaut.png', 'scene.mp4']) {
    const thumbnail = evidenceItem(page, name).getByTestId('evidence-thumbnail');
    await expect(thumbnail).toBeVisible({ timeout: 20_000 });
    await expect
      .poll(() => thumbnail.evaluate((img: HTMLImageElement) => img.naturalWidth))
      .toBeGreaterThan(0);
  }
  await expect(evidenceItem(page, 'statement.txt').getByTestId('evidence-thumbnail')).toHaveCount(
    0,
  );
  await expect(evidenceItem(page, 'scene.mp4').getByTestId('evidence-metadata')).toContainText(
    '320×240 · 2 s',
  );
  await expect(evidenceItem(page, 'astronaut.png').getByTestId('evidence-metadata')).toContainText(
    '512×512',
  );

  // The video plays from the server with range requests.
  await evidenceItem(page, 'scene.mp4')
    .getByRole('button', { name: /Show preview/ })
    .click();
  const player = evidenceItem(page, 'scene.mp4').locator('video');
  await expect
    .poll(() => player.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 15_000 })
    .toBeGreaterThanOrEqual(1);
  expect(await player.evaluate((v: HTMLVideoElement) => Math.round(v.duration))).toBe(2);
});

test('a colleague the case is shared with sees the thumbnail and plays the evidence', async ({
  page,
  browser,
  exhibit,
}) => {
  await setUpAdministrator(page, exhibit);
  await createAccount(exhibit, IVY, 'investigator');
  await createAccount(exhibit, ANA, 'analyst');

  // Neither sees every case: what they may read follows from the case's evidence.
  const ivyPage = await signInElsewhere(browser, exhibit.url, IVY);
  await createCase(ivyPage, { title: 'Shoplifting, High Street' });
  await ivyPage.getByTestId('file-input').setInputFiles(videoPath);
  const mine = evidenceItem(ivyPage, 'scene.mp4');
  await expect(mine.getByTestId('evidence-state')).toHaveText('verified', { timeout: 20_000 });
  await expect(mine).toContainText(`added by ${IVY.name}`);
  const members = ivyPage.getByRole('region', { name: 'Members' });
  await members.getByLabel('Email').fill(ANA.email);
  await members.getByRole('button', { name: 'Add member' }).click();
  await expect(members).toContainText(ANA.name);

  const anaPage = await signInElsewhere(browser, exhibit.url, ANA);
  await anaPage.getByRole('link', { name: 'Shoplifting, High Street' }).click();
  const shared = evidenceItem(anaPage, 'scene.mp4');
  await expect(shared).toContainText(sha256(video));
  const thumbnail = shared.getByTestId('evidence-thumbnail');
  await expect
    .poll(() => thumbnail.evaluate((img: HTMLImageElement) => img.naturalWidth), {
      timeout: 15_000,
    })
    .toBeGreaterThan(0);
  await shared.getByRole('button', { name: /Show preview/ }).click();
  await expect
    .poll(() => shared.locator('video').evaluate((v: HTMLVideoElement) => v.readyState))
    .toBeGreaterThanOrEqual(1);
});

test('a large upload interrupted by going offline goes on from where it stopped when back online', async ({
  page,
  context,
  exhibit,
}) => {
  const requests = await startUploading(page, exhibit, 'Fraud at the depot', [largePath]);

  const upload = page.getByTestId('upload-item').filter({ hasText: 'cctv-export.bin' });
  await expect(upload.getByTestId('upload-phase')).toHaveText('Uploading');
  // Past the first chunk the server acknowledged (the server asks for 16 MiB chunks).
  await expect
    .poll(() => sentOf(page, 'cctv-export.bin'), { timeout: 20_000 })
    .toBeGreaterThan(20e6);
  await expect(page.getByTestId('upload-panel')).toContainText(/left/);

  await context.setOffline(true);
  await expect(upload.getByTestId('upload-phase')).toHaveText('Waiting');
  await expect(upload).toContainText('Offline');
  await expect(evidenceItem(page, 'cctv-export.bin').getByTestId('evidence-state')).toHaveText(
    'queued',
  );
  const before = await sentOf(page, 'cctv-export.bin');
  await page.waitForTimeout(1500);
  await context.setOffline(false);

  await expect(evidenceItem(page, 'cctv-export.bin').getByTestId('evidence-state')).toHaveText(
    'verified',
    { timeout: 60_000 },
  );
  await expect(evidenceItem(page, 'cctv-export.bin')).toContainText(sha256(large));
  expect(before).toBeGreaterThan(16 * MB);
  // One upload, continued: created once, and after the break it goes on from the server's
  // offset rather than from byte 0.
  const seen = await requests.list();
  expect(seen.filter((r) => r.method === 'POST')).toHaveLength(1);
  const head = seen.findIndex((r) => r.method === 'HEAD');
  expect(head).toBeGreaterThan(0);
  const resumedAt = seen.slice(head).find((r) => r.method === 'PATCH')?.offset;
  expect(resumedAt).toBeGreaterThanOrEqual(16 * MB);
});

test('a reload mid-upload resumes from the server’s offset without picking the file again', async ({
  page,
  exhibit,
}) => {
  const requests = await startUploading(page, exhibit, 'Arson, Mill Lane', [largePath]);
  await expect
    .poll(() => sentOf(page, 'cctv-export.bin'), { timeout: 20_000 })
    .toBeGreaterThan(17e6);

  const sentBefore = requests.count();
  await page.reload();
  await throttleUploads(page, 8 * MB);
  const upload = page.getByTestId('upload-item').filter({ hasText: 'cctv-export.bin' });
  await expect(upload).toBeVisible();
  // After the reload the progress starts where the server stands, not at zero.
  await expect.poll(() => sentOf(page, 'cctv-export.bin')).toBeGreaterThan(16e6);
  await expect(evidenceItem(page, 'cctv-export.bin').getByTestId('evidence-state')).toHaveText(
    'verified',
    { timeout: 60_000 },
  );
  await expect(evidenceItem(page, 'cctv-export.bin')).toContainText(sha256(large));

  const after = (await requests.list()).slice(sentBefore);
  expect(after[0]?.method, 'first it asks the server where the upload stands').toBe('HEAD');
  expect(after.filter((r) => r.method === 'POST')).toHaveLength(0);
  const patches = after.filter((r) => r.method === 'PATCH');
  expect(patches.length).toBeGreaterThan(0);
  for (const patch of patches) {
    expect(patch.offset, JSON.stringify(after)).toBeGreaterThanOrEqual(16 * MB);
  }
});

test('uploads go two at a time, and can be paused, resumed and cancelled', async ({
  page,
  exhibit,
}) => {
  const requests = await startUploading(page, exhibit, 'Burglary, Elm Court', [
    largePath,
    // Large enough to still be on its way when it is cancelled, even with the other one paused.
    await onDisk('doorbell.bin', randomBytes(32 * MB)),
    await onDisk('notes.bin', randomBytes(2 * MB)),
  ]);
  const big = page.getByTestId('upload-item').filter({ hasText: 'cctv-export.bin' });
  const small = page.getByTestId('upload-item').filter({ hasText: 'doorbell.bin' });
  const phases = page.getByTestId('upload-phase');
  await expect(phases).toHaveText(['Uploading', 'Uploading', 'Queued']);
  await expect(page.getByTestId('upload-total-detail')).toContainText(/^3 files · .* of 78 MB/);
  await expect
    .poll(() => sentOf(page, 'cctv-export.bin'), { timeout: 20_000 })
    .toBeGreaterThan(1e6);

  // By keyboard: the buttons are ordinary buttons.
  await big.getByRole('button', { name: 'Pause cctv-export.bin' }).press('Enter');
  await expect(big.getByTestId('upload-phase')).toHaveText('Paused');
  const paused = await sentOf(page, 'cctv-export.bin');
  await page.waitForTimeout(1500);
  expect(await sentOf(page, 'cctv-export.bin')).toBe(paused);

  await small.getByRole('button', { name: 'Cancel doorbell.bin' }).click();
  await expect(small).toHaveCount(0);
  await expect(evidenceItem(page, 'doorbell.bin')).toHaveCount(0);
  await expect
    .poll(async () => (await requests.list()).some((r) => r.method === 'DELETE'))
    .toBe(true);

  await big.getByRole('button', { name: 'Resume cctv-export.bin' }).press('Enter');
  await expect(evidenceItem(page, 'cctv-export.bin').getByTestId('evidence-state')).toHaveText(
    'verified',
    { timeout: 60_000 },
  );
  await expect(evidenceItem(page, 'notes.bin').getByTestId('evidence-state')).toHaveText(
    'verified',
  );
  await expect(page.getByTestId('evidence-item')).toHaveCount(2);
});

test.describe('with requests tampered in transit', () => {
  test('a file the server stored differently fails with the reason, and a retry sends it again', async ({
    page,
    exhibit,
  }) => {
    await setUpAdministrator(page, exhibit);
    await createCase(page, { title: 'Threats by letter' });
    const bytes = randomBytes(100_000);
    // Something between the browser and the server swaps the bytes and their chunk checksum:
    // only the whole file's SHA-256 can tell.
    let tampered = false;
    await page.route('**/api/uploads/*', async (route) => {
      const request = route.request();
      const original = request.postDataBuffer();
      if (request.method() !== 'PATCH' || tampered || !original?.length) return route.continue();
      tampered = true;
      const body = Buffer.from(original);
      body[7] = (body[7] ?? 0) ^ 0xff;
      const checksum = createHash('sha256').update(body).digest('base64');
      return route.continue({
        postData: body,
        headers: { ...request.headers(), 'upload-checksum': `sha256 ${checksum}` },
      });
    });
    await page.getByTestId('file-input').setInputFiles({
      name: 'letter.pdf',
      mimeType: 'application/pdf',
      buffer: bytes,
    });
    const evidence = evidenceItem(page, 'letter.pdf');
    await expect(evidence.getByTestId('evidence-state')).toHaveText('failed', { timeout: 20_000 });
    await expect(evidence.getByRole('alert')).toContainText('SHA-256');
    await expect(evidence.getByRole('alert')).toContainText(sha256(bytes));
    const upload = page.getByTestId('upload-item').filter({ hasText: 'letter.pdf' });
    await expect(upload.getByTestId('upload-phase')).toHaveText('Failed');

    await upload.getByRole('button', { name: 'Retry letter.pdf' }).click();
    await expect(evidence.getByTestId('evidence-state')).toHaveText('verified', {
      timeout: 20_000,
    });
    await expect(evidence).toContainText(sha256(bytes));
    await expect(evidence.getByRole('alert')).toHaveCount(0);
  });
});

test('files queued by the previous version move to the resumable queue', async ({
  page,
  exhibit,
}) => {
  // The database module alone, bundled and run in the app's page: real Dexie, real IndexedDB.
  const built = await build({
    stdin: {
      contents: "export { openLocalDb } from './web/lib/db/local-db.ts';",
      resolveDir: resolve(import.meta.dirname, '../..'),
      loader: 'ts',
    },
    bundle: true,
    format: 'iife',
    globalName: 'exhibitDb',
    platform: 'browser',
    write: false,
  });
  await page.goto(exhibit.url);
  await page.evaluate(`${built.outputFiles[0]?.text};globalThis.exhibitDb = exhibitDb;`);
  const migrated = await page.evaluate(async () => {
    // Version 1 as the previous release left it (Dexie's version 1 is IndexedDB's 10).
    await new Promise<void>((done, fail) => {
      const open = indexedDB.open('exhibit:earlier-user', 10);
      open.onupgradeneeded = () => {
        const db = open.result;
        const documents = db.createObjectStore('documents', { keyPath: 'name' });
        documents.createIndex('pending', 'pending');
        documents.createIndex('touchedAt', 'touchedAt');
        const outbox = db.createObjectStore('outbox', { keyPath: 'evidenceId' });
        outbox.createIndex('caseId', 'caseId');
        outbox.createIndex('addedAt', 'addedAt');
        const file = { caseId: 'case-0001', type: 'text/plain', size: 5, attempts: 1 };
        outbox.put({
          ...file,
          evidenceId: 'e1',
          name: 'a.txt',
          blob: new Blob(['first']),
          addedAt: 't1',
        });
        outbox.put({
          ...file,
          evidenceId: 'e2',
          name: 'b.txt',
          blob: new Blob(['other']),
          addedAt: 't2',
          lastError: 'You may not add evidence to this case.',
        });
      };
      open.onsuccess = () => {
        open.result.close();
        done();
      };
      open.onerror = () => fail(open.error);
    });
    const db = globalThis.exhibitDb.openLocalDb('earlier-user');
    const uploads = await db.uploads.orderBy('addedAt').toArray();
    return {
      tables: db.tables.map((t) => t.name).sort(),
      uploads: await Promise.all(uploads.map(async (u) => ({ ...u, file: await u.file.text() }))),
    };
  });
  // The old outbox is gone; later versions add tables of their own.
  expect(migrated.tables).toEqual(
    expect.arrayContaining(['documents', 'uploadCheckpoints', 'uploads']),
  );
  expect(migrated.tables).not.toContain('outbox');
  const common = { caseId: 'case-0001', type: 'text/plain', size: 5, uploaded: 0, described: 0 };
  expect(migrated.uploads).toEqual([
    { ...common, evidenceId: 'e1', name: 'a.txt', file: 'first', addedAt: 't1', status: 'queued' },
    {
      ...common,
      evidenceId: 'e2',
      name: 'b.txt',
      file: 'other',
      addedAt: 't2',
      status: 'failed',
      error: 'You may not add evidence to this case.',
    },
  ]);
});

test.describe('on a phone', () => {
  test.use({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });

  test('the upload panel fits the screen and its buttons are large enough to tap', async ({
    page,
    exhibit,
  }) => {
    await setUpAdministrator(page, exhibit);
    await createCase(page, { title: 'Hit and run, Station Road' });
    await throttleUploads(page, 2 * MB);
    await page
      .getByTestId('file-input')
      .setInputFiles([largePath, await onDisk('dashcam-front-2024-05-01.mp4', video)]);
    const panel = page.getByTestId('upload-panel');
    await expect
      .poll(() => sentOf(page, 'cctv-export.bin'), { timeout: 20_000 })
      .toBeGreaterThan(1e6);
    await expect(panel).toContainText(/left/);
    await panel.scrollIntoViewIfNeeded();
    await page.screenshot({ path: '/tmp/upload-phone-sending.png' });
    await panel.getByRole('button', { name: 'Pause cctv-export.bin' }).tap();
    await expect(panel.getByTestId('upload-phase').first()).toHaveText('Paused');
    await panel.scrollIntoViewIfNeeded();
    await page.screenshot({ path: '/tmp/upload-phone.png', fullPage: true });
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    for (const button of await panel.getByRole('button').all()) {
      const box = await button.boundingBox();
      expect(box?.height ?? 0).toBeGreaterThanOrEqual(40);
    }
  });
});
