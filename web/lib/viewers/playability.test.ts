import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { playability } from './playability.ts';
import { viewerKind } from './viewer-kind.ts';

// Chromium's answers, without proprietary codecs beyond H.264/AAC.
const chromium = (type: string) => (/^video\/(mp4|webm)$/.test(type) ? 'probably' : '');

const plays = suite('playability');

plays('refuses the containers CCTV exports whatever their codecs', () => {
  for (const name of ['cam1.avi', 'DVR_0001.ts', 'clip.wmv', 'clip.flv', 'ch01.h264', 'x.dav']) {
    assert.is(playability({ name, type: 'video/mp4' }, chromium), 'unplayable', name);
  }
  assert.is(playability({ name: 'a', type: 'video/x-msvideo' }, chromium), 'unplayable');
});

plays('decides by the codecs in the metadata when it has them', () => {
  const mkv = (videoCodec: string, audioCodec?: string) =>
    playability(
      {
        name: 'a.mkv',
        type: 'video/x-matroska',
        metadata: { videoCodec, ...(audioCodec ? { audioCodec } : {}) },
      },
      chromium,
    );
  assert.is(mkv('avc', 'aac'), 'playable');
  assert.is(mkv('vp9', 'opus'), 'playable');
  assert.is(mkv('avc', 'pcm-s16'), 'unplayable');
  assert.is(mkv('mpeg4'), 'unplayable');
  assert.is(mkv('hevc'), 'unplayable');
  assert.is(
    playability(
      { name: 'a.mp4', type: 'video/mp4', metadata: { videoCodec: 'hevc' } },
      () => 'probably',
    ),
    'playable',
  );
});

plays('asks the browser when nothing is known, and tries what it is unsure of', () => {
  assert.is(playability({ name: 'a.mp4', type: 'video/mp4' }, chromium), 'playable');
  assert.is(playability({ name: 'a.mov', type: 'video/quicktime' }, chromium), 'unknown');
  assert.is(
    playability(
      { name: 'a.wav', type: 'audio/wav', metadata: { audioCodec: 'pcm-s16' } },
      chromium,
    ),
    'playable',
  );
});

plays.run();

const kinds = suite('viewerKind');

kinds('picks a viewer by type, and by extension for untyped exports', () => {
  assert.is(viewerKind({ name: 'a.mp4', type: 'video/mp4' }), 'video');
  assert.is(viewerKind({ name: 'cam.dav', type: 'application/octet-stream' }), 'video');
  assert.is(viewerKind({ name: 'a.pdf', type: 'application/pdf' }), 'pdf');
  assert.is(viewerKind({ name: 'notes.txt', type: 'text/plain' }), 'text');
  assert.is(viewerKind({ name: 'chat.json', type: 'application/json' }), 'text');
  assert.is(viewerKind({ name: 'a.jpg', type: 'image/jpeg' }), 'image');
  assert.is(viewerKind({ name: 'a.zip', type: 'application/zip' }), 'other');
});

kinds.run();
