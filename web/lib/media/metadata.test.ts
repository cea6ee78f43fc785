import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openAsBlob } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath } from '../../../tests/helpers/fixtures.ts';
import {
  ffmpeg,
  noiseBytes,
  patternWithTone,
  withExif,
  type ExifFields,
} from '../../../tests/helpers/media-fixtures.ts';
import { readMediaMetadata, type MediaMetadata } from './metadata.ts';

const CREATED = ['-metadata', 'creation_time=2024-05-01T10:20:30Z'];

function near(actual: number | undefined, expected: number, within: number, what: string) {
  assert.ok(
    actual !== undefined && Math.abs(actual - expected) <= within,
    `${what}: ${actual} is not within ${within} of ${expected}`,
  );
}

/** Checks the duration to within 0.1 s and everything else exactly. */
function assertMedia(meta: MediaMetadata, duration: number, rest: MediaMetadata) {
  near(meta.durationSeconds, duration, 0.1, 'duration');
  assert.equal({ ...meta, durationSeconds: undefined }, { ...rest, durationSeconds: undefined });
}

async function read(bytes: Uint8Array<ArrayBuffer>, type = ''): Promise<MediaMetadata> {
  return readMediaMetadata(new Blob([bytes], { type }));
}

const media = suite('readMediaMetadata: audio and video', { dir: '' });

media.before(async (context) => {
  context.dir = await mkdtemp(join(tmpdir(), 'exhibit-media-'));
});

media.after(async ({ dir }) => {
  await rm(dir, { recursive: true, force: true });
});

media('reads an MP4 by its bytes, whatever type it was given', async ({ dir }) => {
  const mp4 = await ffmpeg(dir, 'a.mp4', [
    ...patternWithTone(320, 240, 2),
    ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac'],
    ...CREATED,
    ...['-metadata', 'location=+48.8584+002.2945/'],
  ]);
  const meta = await read(mp4, 'image/jpeg');
  near(meta.location?.latitude, 48.8584, 1e-4, 'latitude'); // 'loci' keeps 1/65536 degree
  near(meta.location?.longitude, 2.2945, 1e-4, 'longitude');
  assertMedia({ ...meta, location: undefined }, 2, {
    location: undefined,
    width: 320,
    height: 240,
    videoCodec: 'avc',
    audioCodec: 'aac',
    frameRate: 25,
    capturedAt: '2024-05-01T10:20:30.000Z',
  });
});

media('reads a QuickTime movie the way an iPhone tags it', async ({ dir }) => {
  const mov = await ffmpeg(dir, 'phone.mov', [
    ...['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=30', '-t', '1'],
    ...['-c:v', 'libx265', '-tag:v', 'hvc1', '-pix_fmt', 'yuv420p', '-x265-params', 'log-level=0'],
    ...['-movflags', 'use_metadata_tags'],
    ...['-metadata', 'com.apple.quicktime.make=Apple'],
    ...['-metadata', 'com.apple.quicktime.model=iPhone 15'],
    ...['-metadata', 'com.apple.quicktime.location.ISO6709=-22.9519-043.2105+010.500/'],
    ...['-metadata', 'com.apple.quicktime.creationdate=2024-05-01T12:20:30+0200'],
  ]);
  assertMedia(await read(mov), 1, {
    width: 320,
    height: 240,
    videoCodec: 'hevc',
    frameRate: 30,
    capturedAt: '2024-05-01T10:20:30.000Z',
    location: { latitude: -22.9519, longitude: -43.2105, altitude: 10.5 },
    camera: 'Apple iPhone 15',
  });
});

media('reads the place an Android-style ©xyz atom gives', async ({ dir }) => {
  const mov = await ffmpeg(dir, 'android.mov', [
    ...['-f', 'lavfi', '-i', 'testsrc=size=240x320:rate=30', '-t', '1'],
    ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-f', 'mov'],
    ...['-metadata', 'location=+37.3318-122.0312/'],
  ]);
  const meta = await read(mov);
  assert.equal(meta.location, { latitude: 37.3318, longitude: -122.0312 });
  assert.is(meta.width, 240);
  assert.is(meta.height, 320);
  assert.is(meta.capturedAt, undefined, 'ffmpeg writes no creation time unless asked');
});

media('reads a WebM with VP9 and Opus, and its DateUTC', async ({ dir }) => {
  const webm = await ffmpeg(dir, 'b.webm', [
    ...patternWithTone(320, 240, 2),
    ...['-c:v', 'libvpx-vp9', '-pix_fmt', 'yuv420p', '-deadline', 'realtime', '-cpu-used', '8'],
    ...['-c:a', 'libopus'],
    ...CREATED,
  ]);
  assertMedia(await read(webm, 'application/octet-stream'), 2, {
    width: 320,
    height: 240,
    videoCodec: 'vp9',
    audioCodec: 'opus',
    frameRate: 25,
    capturedAt: '2024-05-01T10:20:30.000Z',
  });
});

media('reads WAV and MP3 audio, which has no picture size', async ({ dir }) => {
  const tone = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', '3'];
  assertMedia(await read(await ffmpeg(dir, 'c.wav', tone)), 3, { audioCodec: 'pcm-s16' });
  const mp3 = await ffmpeg(dir, 'd.mp3', [...tone, '-c:a', 'libmp3lame']);
  assertMedia(await read(mp3), 3, { audioCodec: 'mp3' });
});

media(
  'keeps what a truncated MP4 still says, and returns {} when its index is gone',
  async ({ dir }) => {
    const args = [...patternWithTone(320, 240, 2), '-c:v', 'libx264', '-pix_fmt', 'yuv420p'];
    // With +faststart the index comes first, so the front half still describes the movie.
    const indexFirst = await ffmpeg(dir, 'front.mp4', [...args, '-movflags', '+faststart']);
    const front = await read(indexFirst.subarray(0, indexFirst.length / 2));
    assert.is(front.width, 320);
    assert.is(front.height, 240);
    assert.is(front.videoCodec, 'avc');
    const indexLast = await ffmpeg(dir, 'back.mp4', args);
    assert.equal(await read(indexLast.subarray(0, indexLast.length / 2)), {});
  },
);

media(
  'reads a 3 GiB movie whose index comes after the media, reading only headers',
  async ({ dir }) => {
    const mp4 = await ffmpeg(dir, 'small.mp4', [
      ...['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-t', '2'],
      ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', ...CREATED],
    ]);
    // ftyp, then a 3 GiB 'free' box standing in for the media (sparse on disk), then the rest.
    const ftypEnd = new DataView(mp4.buffer, mp4.byteOffset).getUint32(0);
    const gap = 3 * 1024 ** 3;
    const free = new DataView(new ArrayBuffer(16));
    free.setUint32(0, 1);
    free.setUint32(4, 0x66726565); // 'free'
    free.setBigUint64(8, BigInt(gap + 16));
    const path = join(dir, 'huge.mp4');
    const handle = await open(path, 'w');
    await handle.write(mp4, 0, ftypEnd, 0);
    await handle.write(new Uint8Array(free.buffer), 0, 16, ftypEnd);
    await handle.write(mp4, ftypEnd, mp4.length - ftypEnd, ftypEnd + 16 + gap);
    await handle.close();
    const rssBefore = process.memoryUsage().rss;
    const meta = await readMediaMetadata(await openAsBlob(path));
    assert.ok(
      process.memoryUsage().rss - rssBefore < 256 * 1024 ** 2,
      'read far less than the file',
    );
    assert.is(meta.durationSeconds, 2);
    assert.is(meta.width, 320);
    assert.is(meta.capturedAt, '2024-05-01T10:20:30.000Z');
  },
);

media.run();

const photos = suite('readMediaMetadata: photos', { dir: '', jpeg: new Uint8Array() });

photos.before(async (context) => {
  context.dir = await mkdtemp(join(tmpdir(), 'exhibit-media-'));
  context.jpeg = await ffmpeg(context.dir, 'plain.jpg', [
    ...['-f', 'lavfi', '-i', 'testsrc=size=640x480', '-frames:v', '1'],
  ]);
});

photos.after(async ({ dir }) => {
  await rm(dir, { recursive: true, force: true });
});

const EIFFEL: ExifFields['gps'] = { latitude: 48.85837, longitude: 2.294481, altitude: 35.5 };

photos('reads the date with its zone, the place and the camera from EXIF', async ({ jpeg }) => {
  const meta = await read(
    withExif(jpeg, {
      make: 'Canon',
      model: 'Canon EOS R5',
      dateTimeOriginal: '2024:05:01 10:20:30',
      offsetTimeOriginal: '+02:00',
      gps: EIFFEL,
    }),
  );
  near(meta.location?.latitude, 48.85837, 1e-5, 'latitude');
  near(meta.location?.longitude, 2.294481, 1e-5, 'longitude');
  near(meta.location?.altitude, 35.5, 1e-5, 'altitude');
  assert.equal(
    { ...meta, location: undefined },
    {
      location: undefined,
      width: 640,
      height: 480,
      capturedAt: '2024-05-01T10:20:30+02:00',
      camera: 'Canon EOS R5',
    },
  );
});

photos('keeps a time without a zone as the camera showed it', async ({ jpeg }) => {
  const meta = await read(withExif(jpeg, { dateTimeOriginal: '2024:05:01 10:20:30' }));
  assert.is(meta.capturedAt, '2024-05-01T10:20:30');
  assert.ok(!Number.isNaN(Date.parse(meta.capturedAt ?? '')), 'a date JavaScript can parse');
});

photos('reads southern and western places and heights below the sea', async ({ jpeg }) => {
  const meta = await read(
    withExif(jpeg, { gps: { latitude: -22.951916, longitude: -43.210487, altitude: -12.25 } }),
  );
  near(meta.location?.latitude, -22.951916, 1e-5, 'latitude');
  near(meta.location?.longitude, -43.210487, 1e-5, 'longitude');
  near(meta.location?.altitude, -12.25, 1e-5, 'altitude');
});

photos('gives the size as shown when EXIF turns the picture', async ({ jpeg }) => {
  const meta = await read(withExif(jpeg, { orientation: 6, make: 'Apple', model: 'iPhone 15' }));
  assert.equal(meta, { width: 480, height: 640, camera: 'Apple iPhone 15' });
});

photos('leaves out dates and places that cannot be real', async ({ jpeg }) => {
  for (const fields of [
    { dateTimeOriginal: '0000:00:00 00:00:00', gps: { latitude: 0, longitude: 0 } },
    { dateTimeOriginal: '2024:02:30 10:00:00', gps: { latitude: 95, longitude: 10 } },
    { dateTimeOriginal: '2024:05:01 24:61:99', offsetTimeOriginal: '+02:00' },
    {
      dateTimeOriginal: 'yesterday',
      offsetTimeOriginal: 'CEST',
      gps: { latitude: 10, longitude: 200 },
    },
  ]) {
    assert.equal(
      await read(withExif(jpeg, fields)),
      { width: 640, height: 480 },
      JSON.stringify(fields),
    );
  }
});

photos('reads the size of pictures without EXIF', async ({ dir, jpeg }) => {
  assert.equal(await read(jpeg), { width: 640, height: 480 });
  const png = new Uint8Array(await readFile(fixturePath('astronaut.png')));
  assert.equal(await read(png, 'video/mp4'), { width: 512, height: 512 });
  const still = ['-f', 'lavfi', '-i', 'testsrc=size=300x200', '-frames:v', '1'];
  for (const name of ['still.gif', 'still.webp', 'still.tif']) {
    assert.equal(await read(await ffmpeg(dir, name, still)), { width: 300, height: 200 }, name);
  }
});

/** The JPEG with `count` APP11 segments of filler first, like the previews some cameras add. */
function withFillerFirst(jpeg: Uint8Array, count: number): Uint8Array<ArrayBuffer> {
  const filler = new Uint8Array(65_000);
  new DataView(filler.buffer).setUint32(0, 0xffeb0000 + filler.length - 2);
  const parts = [jpeg.subarray(0, 2), ...Array<Uint8Array>(count).fill(filler), jpeg.subarray(2)];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, part) => (out.set(part, at), at + part.length), 0);
  return out;
}

photos('finds the frame size behind large segments after the EXIF', async ({ jpeg }) => {
  const meta = await read(
    withExif(withFillerFirst(jpeg, 3), { dateTimeOriginal: '2024:05:01 10:20:30' }),
  );
  assert.equal(meta, { width: 640, height: 480, capturedAt: '2024-05-01T10:20:30' });
});

photos('keeps the EXIF of a JPEG cut short after its header', async ({ jpeg }) => {
  const whole = withExif(jpeg, { dateTimeOriginal: '2024:05:01 10:20:30' });
  const meta = await read(whole.subarray(0, 2000));
  assert.is(meta.capturedAt, '2024-05-01T10:20:30');
});

photos.run();

const broken = suite('readMediaMetadata: files it cannot read');

broken('returns {} for empty files, noise, and text', async () => {
  assert.equal(await read(new Uint8Array()), {});
  assert.equal(await read(noiseBytes(256 * 1024), 'video/mp4'), {});
  assert.equal(await read(new TextEncoder().encode('II* not really a TIFF')), {});
  assert.equal(await read(new TextEncoder().encode('just a note')), {});
});

broken('rejects with an AbortError once aborted, and only then', async () => {
  const file = new Blob([noiseBytes(1024)]);
  const controller = new AbortController();
  controller.abort();
  const before = await readMediaMetadata(file, { signal: controller.signal }).catch((e) => e);
  assert.instance(before, DOMException);
  assert.is((before as DOMException).name, 'AbortError');
  const midway = new AbortController();
  const reading = readMediaMetadata(file, { signal: midway.signal });
  midway.abort();
  const during = await reading.catch((e: unknown) => e);
  assert.is((during as DOMException).name, 'AbortError');
});

/** A file on a disk that stopped answering: every read waits forever. */
class StalledBlob extends Blob {
  override slice(start = 0, end = this.size): Blob {
    return new StalledBlob([new Uint8Array(Math.max(0, Math.min(end, this.size) - start))]);
  }
  override arrayBuffer(): Promise<ArrayBuffer> {
    return new Promise(() => {});
  }
}

broken('gives up at once when aborted while a read is stuck', async () => {
  const controller = new AbortController();
  const reading = readMediaMetadata(new StalledBlob([noiseBytes(1024)]), {
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(), 50);
  const err = await reading.catch((e: unknown) => e);
  assert.is((err as DOMException).name, 'AbortError');
});

broken.run();
