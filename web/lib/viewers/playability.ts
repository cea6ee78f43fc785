// Browser-safe: whether the browser can play an evidence file as it is, decided before loading
// it so a file that cannot play is offered a playable copy at once instead of a broken player.
import type { EvidenceRecord } from '$lib/shared/case-doc';

export type Playability = 'playable' | 'unplayable' | 'unknown';

/** Containers and streams CCTV and old cameras export, which no browser demuxes. */
const UNPLAYABLE_EXTENSIONS = new Set([
  'avi',
  'wmv',
  'asf',
  'flv',
  'f4v',
  'ts',
  'mts',
  'm2ts',
  'mpg',
  'mpeg',
  'm2v',
  'vob',
  'dav',
  '264',
  'h264',
  '265',
  'h265',
  'hevc',
  'divx',
  'xvid',
  '3gp',
  'rm',
  'rmvb',
  'dv',
  'mxf',
]);
const UNPLAYABLE_TYPES = new Set([
  'video/x-msvideo',
  'video/avi',
  'video/msvideo',
  'video/x-ms-wmv',
  'video/x-ms-asf',
  'video/x-flv',
  'video/mp2t',
  'video/mpeg',
  'video/h264',
  'video/h265',
  'video/x-dv',
  'application/mxf',
  'video/3gpp',
]);
/** Codecs (as mediabunny names them) Chromium decodes in software on every platform. */
const PLAYABLE_VIDEO = new Set(['avc', 'vp8', 'vp9', 'av1']);
const PLAYABLE_AUDIO = new Set(['aac', 'mp3', 'opus', 'vorbis', 'flac']);
/** A probe string per codec that only some platforms decode (hardware or licensed decoders). */
const PROBE: Record<string, string> = { hevc: 'video/mp4; codecs="hvc1.1.6.L93.B0"' };

export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

/**
 * Whether `record` plays as it is. `canPlayType` is HTMLMediaElement's; the codecs come from
 * the metadata read when the file was added. `unknown` means: try it, and treat a load error as
 * unplayable.
 */
export function playability(
  record: Pick<EvidenceRecord, 'name' | 'type' | 'metadata'>,
  canPlayType: (type: string) => string,
): Playability {
  const type = record.type.split(';')[0]!.trim().toLowerCase();
  if (!type.startsWith('video/') && !type.startsWith('audio/')) {
    if (!UNPLAYABLE_EXTENSIONS.has(extensionOf(record.name))) return 'unknown';
  }
  if (UNPLAYABLE_TYPES.has(type) || UNPLAYABLE_EXTENSIONS.has(extensionOf(record.name))) {
    return 'unplayable';
  }
  const video = record.metadata?.videoCodec?.toLowerCase();
  const audio = record.metadata?.audioCodec?.toLowerCase();
  const codecPlays = (codec: string | undefined, known: Set<string>) =>
    codec === undefined ||
    known.has(codec.split('.')[0]!) ||
    (PROBE[codec] !== undefined && canPlayType(PROBE[codec]) !== '');
  if (video !== undefined || audio !== undefined) {
    // pcm in WAV plays; in a video container it usually does not.
    const audioPlays =
      codecPlays(audio, PLAYABLE_AUDIO) ||
      (video === undefined && audio !== undefined && audio.startsWith('pcm'));
    return codecPlays(video, PLAYABLE_VIDEO) && audioPlays ? 'playable' : 'unplayable';
  }
  const answer = canPlayType(type);
  return answer === 'probably' ? 'playable' : 'unknown';
}
