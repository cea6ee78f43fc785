import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { NoPlayableStreams, parseProbeLog, planProxy, progressOf } from './proxy-plan.ts';

// What ffmpeg prints about inputs, as Debian's ffmpeg and ffmpeg.wasm both word it.
const AVI = [
  "Input #0, avi, from '/input/original.avi':",
  '  Duration: 00:00:01.04, start: 0.000000, bitrate: 515 kb/s',
  '  Stream #0:0: Video: mpeg4 (Simple Profile) (FMP4 / 0x34504D46), yuv420p, 320x240 [SAR 1:1 DAR 4:3], 25 fps, 25 tbr, 25 tbn',
  '  Stream #0:1: Audio: mp3 (U[0][0][0] / 0x0055), 44100 Hz, mono, fltp, 64 kb/s',
  'At least one output file must be specified',
];
const TS_444 = [
  "Input #0, mpegts, from '/input/original.ts':",
  '  Duration: 00:00:01.00, start: 1.480000, bitrate: 117 kb/s',
  '  Stream #0:0[0x100]: Video: h264 (High 4:4:4 Predictive) ([27][0][0][0] / 0x001B), yuv444p(progressive), 320x240 [SAR 1:1 DAR 4:3], 25 fps, 25 tbr, 90k tbn',
];
const MKV = [
  "Input #0, matroska,webm, from '/input/original.mkv':",
  '  Duration: 01:02:03.50, start: 0.000000, bitrate: 2000 kb/s',
  '  Stream #0:0(eng): Video: h264 (Main), yuv420p(tv, bt709, progressive), 1920x1080, 29.97 fps, 29.97 tbr, 1k tbn (default)',
  '  Stream #0:1(eng): Audio: pcm_mulaw, 8000 Hz, mono, s16, 64 kb/s (default)',
];

const parse = suite('parseProbeLog');

parse('reads the container, duration and first video and audio stream', () => {
  assert.equal(parseProbeLog(AVI), {
    container: 'avi',
    duration: 1.04,
    video: { codec: 'mpeg4', pixelFormat: 'yuv420p', width: 320, height: 240, fps: 25 },
    audio: { codec: 'mp3' },
  });
});

parse('reads streams with ids and languages, and hours in the duration', () => {
  const probed = parseProbeLog(MKV);
  assert.is(probed.container, 'matroska,webm');
  assert.is(probed.duration, 3723.5);
  assert.equal(probed.video, {
    codec: 'h264',
    pixelFormat: 'yuv420p',
    width: 1920,
    height: 1080,
    fps: 29.97,
  });
  assert.equal(probed.audio, { codec: 'pcm_mulaw' });
});

parse('finds nothing in a log about no media', () => {
  assert.equal(parseProbeLog(['/input/x: Invalid data found when processing input']), {
    container: undefined,
    duration: undefined,
    video: undefined,
    audio: undefined,
  });
});

parse.run();

const plan = suite('planProxy');

plan('re-encodes MPEG-4 Part 2 video with x264 at most 1280 wide, and copies MP3', () => {
  const { method, args } = planProxy(parseProbeLog(AVI), 'in.avi', 'out.mp4');
  assert.is(method, 'transcode');
  assert.ok(args.join(' ').includes('-c:v libx264 -preset ultrafast'));
  assert.ok(args.join(' ').includes("scale='trunc(min(1280,iw)/2)*2':-2"));
  assert.ok(args.join(' ').includes('-c:a copy'));
  assert.is(args.at(-1), 'out.mp4');
});

plan('copies 8-bit 4:2:0 H.264 and makes AAC of audio MP4 players lack', () => {
  const { method, args } = planProxy(parseProbeLog(MKV), 'in.mkv', 'out.mp4');
  assert.is(method, 'remux');
  assert.ok(args.join(' ').includes('-c:v copy'));
  assert.ok(args.join(' ').includes('-c:a aac'));
});

plan('re-encodes H.264 that browsers cannot decode (4:4:4)', () => {
  assert.is(planProxy(parseProbeLog(TS_444), 'in.ts', 'out.mp4').method, 'transcode');
});

plan('numbers the frames of a raw H.264 stream', () => {
  const raw = { ...parseProbeLog(MKV), container: 'h264', audio: undefined };
  const { args } = planProxy(raw, 'in.h264', 'out.mp4');
  assert.equal(args.slice(0, 4), ['-fflags', '+genpts', '-i', 'in.h264']);
  assert.not.ok(args.includes('0:a:0'));
});

plan('refuses a file with neither video nor audio', () => {
  assert.throws(
    () => planProxy(parseProbeLog([]), 'in', 'out'),
    (err: unknown) => err instanceof NoPlayableStreams,
  );
});

plan.run();

const progress = suite('progressOf');

progress('is the status line time over the duration, within 0..1', () => {
  const line = 'frame=   12 fps=0.0 q=-1.0 size= 1kB time=00:00:00.52 bitrate=  0.0kbits/s';
  assert.is(progressOf(line, 1.04), 0.5);
  assert.is(progressOf('time=00:00:03.00', 1), 1);
  assert.is(progressOf('time=00:00:03.00', undefined), undefined);
  assert.is(progressOf('Stream mapping:', 2), undefined);
});

progress.run();
