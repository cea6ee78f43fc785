// The whole redaction pipeline in headless Chromium, as `npm run redact` runs it: MediaPipe's
// FaceDetector with the model wasm/face-model builds finds the face in the fixture picture, the
// renderer blurs it and nothing else, audio ranges are muted, and bad input fails clearly.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { greyFrame, meanDifference, noiseBytes } from '../../tests/helpers/media-fixtures.ts';
import { iou } from './tracker.ts';
import { redact, UsageError, type CliOptions } from './cli.ts';
import { DEFAULT_DETECTOR } from './detector-protocol.ts';
import { emptyRecipe, type RedactionRecipe } from './recipe.ts';
import { fixturePath } from '../../tests/helpers/fixtures.ts';

const run = promisify(execFile);
const FFMPEG = process.env['FFMPEG_PATH'] ?? 'ffmpeg';
const FIXTURE = fixturePath('astronaut.png');
/** Where BlazeFace boxes the face in astronaut.png (512 × 512), checked by hand. */
const FACE = { x: 177 / 512, y: 82 / 512, w: 95 / 512, h: 95 / 512 };

let dir = '';
let clip = '';

function options(out: string, change: Partial<CliOptions> = {}): CliOptions {
  return {
    input: clip,
    output: join(dir, out),
    faces: 'auto',
    style: 'blur',
    strength: 60,
    padding: 0.3,
    ranges: [],
    removeAudio: false,
    minFace: DEFAULT_DETECTOR.minFace,
    step: DEFAULT_DETECTOR.step,
    scanEvery: DEFAULT_DETECTOR.scanEvery,
    quiet: true,
    ...change,
  };
}

/** Audio as mono 16-bit samples at 8 kHz. */
async function samples(path: string): Promise<Int16Array> {
  const { stdout } = await run(
    FFMPEG,
    ['-loglevel', 'error', '-i', path, '-vn', '-ac', '1', '-ar', '8000', '-f', 's16le', '-'],
    { encoding: 'buffer', maxBuffer: 1 << 24 },
  );
  return new Int16Array(stdout.buffer, stdout.byteOffset, stdout.byteLength / 2);
}

/** ffmpeg's description of a file's streams (on stderr; it fails for want of an output). */
function described(path: string): Promise<string> {
  return run(FFMPEG, ['-hide_banner', '-i', path]).then(
    () => '',
    (error: { stderr?: string }) => error.stderr ?? '',
  );
}

function loudness(audio: Int16Array, from: number, to: number): number {
  let sum = 0;
  for (let i = Math.floor(from * 8000); i < Math.floor(to * 8000); i++) sum += Math.abs(audio[i]!);
  return sum / (Math.floor(to * 8000) - Math.floor(from * 8000));
}

const pipeline = suite('redact (headless Chromium)');

pipeline.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'exhibit-redact-'));
  clip = join(dir, 'astronaut.mp4');
  await run(FFMPEG, [
    '-loglevel',
    'error',
    '-y',
    '-loop',
    '1',
    '-i',
    FIXTURE,
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-t',
    '3',
    '-r',
    '30',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-shortest',
    clip,
  ]);
});

pipeline.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

pipeline('finds the face in the fixture picture and blurs it, and nothing else', async () => {
  const analysisPath = join(dir, 'analysis.json');
  const result = await redact(options('auto.mp4', { analysis: analysisPath }));
  assert.is(result.frames, 90);
  const analysis = JSON.parse(await readFile(analysisPath, 'utf8')) as {
    tracks: Array<{ points: Array<{ box: typeof FACE; score: number }> }>;
  };
  assert.is(analysis.tracks.length, 1, 'one face, one track');
  const best = analysis.tracks[0]!.points.reduce((a, b) => (b.score > a.score ? b : a));
  assert.ok(best.score > 0.8, `a sure detection (score ${best.score})`);
  assert.ok(iou(best.box, FACE) > 0.6, `the box is on the face: ${JSON.stringify(best.box)}`);

  const before = await greyFrame(clip, 1);
  const after = await greyFrame(join(dir, 'auto.mp4'), 1);
  const face = { x: 177 + 20, y: 82 + 20, w: 55, h: 55 };
  assert.ok(meanDifference(before, after, 512, face) > 8, 'the face is changed');
  for (const corner of [
    { x: 0, y: 400, w: 100, h: 100 },
    { x: 400, y: 400, w: 100, h: 100 },
  ]) {
    assert.ok(
      meanDifference(before, after, 512, corner) < 3,
      'far from the face the picture is as it was',
    );
  }
  // The copy does not claim to have been recorded when it was rendered (MP4 time 0: none).
  assert.not.match(await described(join(dir, 'auto.mp4')), /creation_time/);
  // The audio is copied as it was.
  assert.ok(loudness(await samples(join(dir, 'auto.mp4')), 0.5, 2.5) > 1000);
});

pipeline(
  'masks only what a recipe names, and mutes and tones the audio ranges asked for',
  async () => {
    const recipe: RedactionRecipe = {
      ...emptyRecipe('set by the command'),
      masks: [
        {
          id: 'plate',
          shape: 'rectangle',
          label: 'Plate',
          from: 0,
          to: 10,
          keyframes: [{ t: 0, box: { x: 0, y: 0.8, w: 0.2, h: 0.2 } }],
        },
      ],
    };
    const recipePath = join(dir, 'recipe.json');
    await writeFile(recipePath, JSON.stringify(recipe));
    await redact(
      options('manual.mp4', {
        faces: 'none',
        recipe: recipePath,
        style: 'fill',
        padding: 0,
        ranges: [
          { start: 0.5, end: 1.2, mode: 'mute' },
          { start: 1.8, end: 2.4, mode: 'tone' },
        ],
      }),
    );
    const before = await greyFrame(clip, 1);
    const after = await greyFrame(join(dir, 'manual.mp4'), 1);
    assert.ok(
      meanDifference(before, after, 512, { x: 10, y: 420, w: 80, h: 80 }) > 20,
      'the masked corner is filled',
    );
    assert.ok(
      meanDifference(before, after, 512, { x: 197, y: 102, w: 55, h: 55 }) < 3,
      'the face is left alone',
    );
    const audio = await samples(join(dir, 'manual.mp4'));
    assert.ok(loudness(audio, 0.6, 1.1) < 50, 'muted');
    assert.ok(loudness(audio, 0.1, 0.4) > 1000, 'before the range, sound');
    assert.ok(loudness(audio, 1.9, 2.3) > 1000, 'toned, not silent');
  },
);

pipeline('leaves the audio out when asked', async () => {
  await redact(options('silent.mp4', { faces: 'none', removeAudio: true }));
  const original = await described(clip);
  const silent = await described(join(dir, 'silent.mp4'));
  assert.match(original, /Audio:/);
  assert.match(silent, /Video:/);
  assert.not.match(silent, /Audio:/);
});

pipeline(
  'redacts a video WebCodecs cannot decode (MPEG-4 Part 2 in AVI) through ffmpeg.wasm',
  async () => {
    const avi = join(dir, 'dvr.avi');
    await run(FFMPEG, [
      '-loglevel',
      'error',
      '-y',
      '-i',
      clip,
      '-t',
      '1',
      '-c:v',
      'mpeg4',
      '-q:v',
      '3',
      '-an',
      avi,
    ]);
    const analysisPath = join(dir, 'avi-analysis.json');
    const result = await redact(options('avi.mp4', { input: avi, analysis: analysisPath }));
    assert.is(result.frames, 30);
    const analysis = JSON.parse(await readFile(analysisPath, 'utf8')) as { tracks: unknown[] };
    assert.is(analysis.tracks.length, 1);
    const before = await greyFrame(clip, 0.5);
    const after = await greyFrame(join(dir, 'avi.mp4'), 0.5);
    assert.ok(
      meanDifference(before, after, 512, { x: 197, y: 102, w: 55, h: 55 }) > 8,
      'the face is changed',
    );
    assert.ok(
      meanDifference(before, after, 512, { x: 0, y: 400, w: 100, h: 100 }) < 4,
      'the rest is not',
    );
  },
);

pipeline('a file that is not a video fails with a clear error and leaves no output', async () => {
  const noise = join(dir, 'noise.mp4');
  await writeFile(noise, noiseBytes(200_000));
  const error = await redact(options('bad.mp4', { input: noise })).then(
    () => null,
    (e: unknown) => e as Error,
  );
  assert.ok(error, 'refused');
  assert.match(error.message, /video|format/i);
  assert.is(await stat(join(dir, 'bad.mp4')).catch(() => null), null, 'no partial output is left');
});

pipeline('a missing input is a usage error', async () => {
  const error = await redact(options('none.mp4', { input: join(dir, 'missing.mp4') })).catch(
    (e: unknown) => e,
  );
  assert.instance(error, UsageError);
});

pipeline.run();
