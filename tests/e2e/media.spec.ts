// Thumbnails and media metadata in Chromium, under the app's own Content-Security-Policy, without
// its UI: the media modules are bundled here and run in the app's page.
import { build } from 'esbuild';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect } from './fixtures.ts';
import { fixturePath } from '../helpers/fixtures.ts';
import { ffmpeg, noiseBytes, patternWithTone, withExif } from '../helpers/media-fixtures.ts';
import type { makeThumbnail } from '../../web/lib/media/thumbnail.ts';
import type { readMediaMetadata } from '../../web/lib/media/metadata.ts';

interface MediaModules {
  makeThumbnail: typeof makeThumbnail;
  readMediaMetadata: typeof readMediaMetadata;
}

declare global {
  var exhibitMedia: MediaModules;
}

const files: Record<string, string> = {}; // name → base64
let bundle = '';
let dir = '';

test.beforeAll(async () => {
  const built = await build({
    stdin: {
      contents: [
        "export { makeThumbnail } from './web/lib/media/thumbnail.ts';",
        "export { readMediaMetadata } from './web/lib/media/metadata.ts';",
      ].join('\n'),
      resolveDir: resolve(import.meta.dirname, '../..'),
      loader: 'ts',
    },
    bundle: true,
    format: 'iife',
    globalName: 'exhibitMedia',
    platform: 'browser',
    target: 'chrome120',
    write: false,
  });
  bundle = `${built.outputFiles[0]?.text};globalThis.exhibitMedia = exhibitMedia;`;

  dir = await mkdtemp(join(tmpdir(), 'exhibit-e2e-media-'));
  const h264 = ['-c:v', 'libx264', '-pix_fmt', 'yuv420p'];
  const made: Record<string, Uint8Array> = {
    'astronaut.png': new Uint8Array(await readFile(fixturePath('astronaut.png'))),
    'wide.mp4': await ffmpeg(dir, 'wide.mp4', [
      ...patternWithTone(640, 360, 2),
      ...h264,
      ...['-c:a', 'aac', '-metadata', 'creation_time=2024-05-01T10:20:30Z'],
    ]),
    'tall.webm': await ffmpeg(dir, 'tall.webm', [
      ...patternWithTone(240, 320, 2),
      ...['-c:v', 'libvpx-vp9', '-pix_fmt', 'yuv420p', '-deadline', 'realtime', '-cpu-used', '8'],
      ...['-c:a', 'libopus'],
    ]),
    'tone.wav': await ffmpeg(dir, 'tone.wav', [
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', '1'],
    ]),
    'noise.bin': noiseBytes(100_000),
    'empty.bin': new Uint8Array(),
  };
  // Red above blue as stored; orientation 6 turns it a quarter clockwise, so blue shows left.
  const redOverBlue = await ffmpeg(dir, 'red-over-blue.jpg', [
    ...['-f', 'lavfi', '-i', 'color=c=red:s=640x240,pad=640:480:0:0:blue', '-frames:v', '1'],
  ]);
  made['turned.jpg'] = withExif(redOverBlue, {
    orientation: 6,
    dateTimeOriginal: '2024:05:01 10:20:30',
    offsetTimeOriginal: '+02:00',
    gps: { latitude: 48.85837, longitude: 2.294481 },
  });
  for (const [name, bytes] of Object.entries(made)) {
    files[name] = Buffer.from(bytes).toString('base64');
  }
});

test.afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Opens the app's page and adds the media modules to it. */
async function mediaPage(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.evaluate(bundle);
}

interface Decoded {
  type: string;
  width: number;
  height: number;
  /** The brightest channel value in the picture: 0 for a black frame. */
  brightest: number;
  /** Red, green and blue a quarter of the way in from the top left. */
  left: number[];
}

/** Calls makeThumbnail on a file in the page and decodes what it made. */
function thumbnailOf(
  page: Page,
  name: string,
  options: { maxSize?: number; only?: 'webcodecs' | 'video element' } = {},
): Promise<Decoded | undefined> {
  return page.evaluate(
    async ({ base64, name, maxSize, only }) => {
      // Takes away, for this call only, what the other way needs, to show which way worked.
      const { VideoDecoder } = globalThis;
      const { createObjectURL } = URL;
      if (only === 'video element') Reflect.deleteProperty(globalThis, 'VideoDecoder');
      if (only === 'webcodecs') {
        URL.createObjectURL = () => {
          throw new Error('no blob: URLs in this test');
        };
      }
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const file = new File([bytes], name);
      let thumbnail: Blob | undefined;
      try {
        thumbnail = await globalThis.exhibitMedia.makeThumbnail(file, { maxSize });
      } finally {
        globalThis.VideoDecoder = VideoDecoder;
        URL.createObjectURL = createObjectURL;
      }
      if (!thumbnail) return undefined;
      const bitmap = await createImageBitmap(thumbnail);
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const context = canvas.getContext('2d') as OffscreenCanvasRenderingContext2D;
      context.drawImage(bitmap, 0, 0);
      const pixels = context.getImageData(0, 0, bitmap.width, bitmap.height).data;
      const brightest = pixels.reduce((max, v, i) => (i % 4 === 3 ? max : Math.max(max, v)), 0);
      const left = [...context.getImageData(bitmap.width / 4, bitmap.height / 4, 1, 1).data];
      return {
        type: thumbnail.type,
        width: bitmap.width,
        height: bitmap.height,
        brightest,
        left: left.slice(0, 3),
      };
    },
    {
      base64: files[name] ?? '',
      name,
      maxSize: options.maxSize,
      only: options.only,
    },
  );
}

test('thumbnails pictures: a PNG to 320 px, an EXIF-turned photo upright', async ({
  page,
  exhibit,
}) => {
  await mediaPage(page, exhibit.url);
  const png = await thumbnailOf(page, 'astronaut.png');
  expect(png).toMatchObject({ type: 'image/jpeg', width: 320, height: 320 });
  expect(png?.brightest).toBeGreaterThan(100);
  // 640×480 stored, orientation 6: shown (and thumbnailed) as 480×640, turned, not squeezed.
  const turned = await thumbnailOf(page, 'turned.jpg');
  expect(turned).toMatchObject({ width: 240, height: 320 });
  const [red = 0, , blue = 0] = turned?.left ?? [];
  expect(blue, `blue on the left, not ${turned?.left.join()}`).toBeGreaterThan(red + 100);
  expect(await thumbnailOf(page, 'astronaut.png', { maxSize: 1000 })).toMatchObject({
    width: 512,
    height: 512,
  });
});

test('thumbnails videos from a frame a little way in, by WebCodecs or else a <video>', async ({
  page,
  exhibit,
}) => {
  await mediaPage(page, exhibit.url);
  for (const only of ['webcodecs', 'video element'] as const) {
    const mp4 = await thumbnailOf(page, 'wide.mp4', { only });
    expect(mp4, only).toMatchObject({ type: 'image/jpeg', width: 320, height: 180 });
    expect(mp4?.brightest, `${only}: a decoded frame, not a black one`).toBeGreaterThan(100);
  }
  expect(await thumbnailOf(page, 'tall.webm', { maxSize: 160, only: 'webcodecs' })).toMatchObject({
    width: 120,
    height: 160,
  });
});

test('makes no thumbnail of noise, an empty file or sound, and stops when aborted', async ({
  page,
  exhibit,
}) => {
  await mediaPage(page, exhibit.url);
  for (const name of ['noise.bin', 'empty.bin', 'tone.wav']) {
    expect(await thumbnailOf(page, name), name).toBeUndefined();
  }
  const aborted = await page.evaluate(async (base64) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const controller = new AbortController();
    const making = globalThis.exhibitMedia.makeThumbnail(new Blob([bytes]), {
      signal: controller.signal,
    });
    controller.abort();
    return making.then(
      () => 'finished',
      (err: unknown) => (err instanceof DOMException ? err.name : String(err)),
    );
  }, files['wide.mp4'] ?? '');
  expect(aborted).toBe('AbortError');
});

test('reads media metadata in Chromium too', async ({ page, exhibit }) => {
  await mediaPage(page, exhibit.url);
  const metadataOf = (name: string) =>
    page.evaluate(
      async ({ base64, name }) => {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        return globalThis.exhibitMedia.readMediaMetadata(new File([bytes], name));
      },
      { base64: files[name] ?? '', name },
    );
  const mp4 = await metadataOf('wide.mp4');
  expect(mp4.durationSeconds).toBeCloseTo(2, 1);
  expect(mp4).toMatchObject({
    width: 640,
    height: 360,
    videoCodec: 'avc',
    audioCodec: 'aac',
    frameRate: 25,
    capturedAt: '2024-05-01T10:20:30.000Z',
  });
  const photo = await metadataOf('turned.jpg');
  expect(photo).toMatchObject({ width: 480, height: 640, capturedAt: '2024-05-01T10:20:30+02:00' });
  expect(photo.location?.latitude).toBeCloseTo(48.85837, 5);
  expect(photo.location?.longitude).toBeCloseTo(2.294481, 5);
  expect(await metadataOf('noise.bin')).toEqual({});
});

test('gives up on a file whose reads never finish, after about 10 s', async ({ page, exhibit }) => {
  await mediaPage(page, exhibit.url);
  const outcome = await page.evaluate(async () => {
    class StalledBlob extends Blob {
      override slice(start = 0, end = this.size): Blob {
        return new StalledBlob([new Uint8Array(Math.max(0, Math.min(end, this.size) - start))]);
      }
      override arrayBuffer(): Promise<ArrayBuffer> {
        return new Promise(() => {});
      }
      override stream(): ReadableStream<Uint8Array<ArrayBuffer>> {
        return new ReadableStream({ pull: () => new Promise(() => {}) });
      }
    }
    const started = performance.now();
    const thumbnail = await globalThis.exhibitMedia.makeThumbnail(
      new StalledBlob([new Uint8Array(4096)]),
    );
    return { thumbnail: thumbnail ?? null, seconds: (performance.now() - started) / 1000 };
  });
  expect(outcome.thumbnail).toBeNull();
  expect(outcome.seconds).toBeGreaterThan(9);
  expect(outcome.seconds).toBeLessThan(12);
});
