// Browser-safe: how to turn a file browsers cannot play into one they can, decided from what
// ffmpeg says about its streams. No ffmpeg here, so Node tests it with ffmpeg's own words.

export interface ProbedStreams {
  /** ffmpeg's demuxer name(s), e.g. "avi" or "mov,mp4,m4a,3gp,3g2,mj2". */
  container: string | undefined;
  /** Seconds, when the container says. */
  duration: number | undefined;
  video:
    | { codec: string; pixelFormat?: string; width?: number; height?: number; fps?: number }
    | undefined;
  audio: { codec: string } | undefined;
}

const STREAM = /Stream #\d+:\d+(?:\[[^\]]*\])?(?:\([^)]*\))?: (Video|Audio): ([A-Za-z0-9_]+)(.*)$/;

/** Reads `ffmpeg -i <file>`'s report on its input: container, duration, first video and audio. */
export function parseProbeLog(lines: readonly string[]): ProbedStreams {
  const out: ProbedStreams = {
    container: undefined,
    duration: undefined,
    video: undefined,
    audio: undefined,
  };
  for (const line of lines) {
    const input = /^Input #0, ([^ ]+), from/.exec(line.trim());
    if (input) out.container = input[1]!.replace(/,$/, '');
    const duration = /Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)/.exec(line);
    if (duration && out.duration === undefined) {
      out.duration = +duration[1]! * 3600 + +duration[2]! * 60 + +duration[3]!;
    }
    const stream = STREAM.exec(line);
    if (!stream) continue;
    const [, kind, codec, rest = ''] = stream;
    if (kind === 'Video' && !out.video) {
      const size = /, (\d{2,5})x(\d{2,5})/.exec(rest);
      const fps = /, ([\d.]+) fps/.exec(rest);
      const pixelFormat = /, ((?:yuv|yuvj|nv|gray|rgb|bgr)[a-z0-9]*)/.exec(rest);
      out.video = {
        codec: codec!,
        ...(pixelFormat ? { pixelFormat: pixelFormat[1]! } : {}),
        ...(size ? { width: +size[1]!, height: +size[2]! } : {}),
        ...(fps ? { fps: +fps[1]! } : {}),
      };
    } else if (kind === 'Audio' && !out.audio) {
      out.audio = { codec: codec! };
    }
  }
  return out;
}

/** Progress of a run as a fraction, from a `time=HH:MM:SS.xx` status line; undefined if none. */
export function progressOf(line: string, duration: number | undefined): number | undefined {
  const time = /time=(-?\d+):(\d{2}):(\d{2}(?:\.\d+)?)/.exec(line);
  if (!time || !duration || duration <= 0) return undefined;
  const seconds = +time[1]! * 3600 + +time[2]! * 60 + +time[3]!;
  return Math.min(1, Math.max(0, seconds / duration));
}

/** Codecs an MP4 may carry that every browser with H.264 support plays. */
const PLAYABLE_AUDIO_IN_MP4 = new Set(['aac', 'mp3']);

/** Largest proxy width: enough to review CCTV at a glance while a phone can still encode it. */
export const PROXY_MAX_WIDTH = 1280;

export interface ProxyPlan {
  method: 'remux' | 'transcode';
  /** Arguments for ffmpeg, reading `input` and writing an MP4 to `output`. */
  args: string[];
}

/**
 * The cheapest way to a playable H.264/AAC MP4: copy 8-bit 4:2:0 H.264 frames into a new container
 * (every frame kept exactly, seconds of work) or, for any other video, encode a new picture at
 * most {@link PROXY_MAX_WIDTH} wide with x264's fastest preset. Audio is copied when MP4 can
 * carry it playably, else made AAC. Throws when the file has no video or audio to play.
 */
export function planProxy(streams: ProbedStreams, input: string, output: string): ProxyPlan {
  const { video, audio } = streams;
  if (!video && !audio) throw new NoPlayableStreams();
  // Raw elementary streams carry no timestamps: let ffmpeg number the frames.
  const raw = streams.container === 'h264' || streams.container === 'hevc';
  const head = [...(raw ? ['-fflags', '+genpts'] : []), '-i', input];
  const maps = [...(video ? ['-map', '0:v:0'] : []), ...(audio ? ['-map', '0:a:0'] : [])];
  const audioArgs = !audio
    ? []
    : PLAYABLE_AUDIO_IN_MP4.has(audio.codec)
      ? ['-c:a', 'copy']
      : ['-c:a', 'aac', '-b:a', '128k', '-ac', '2'];
  // Browsers decode 8-bit 4:2:0 H.264 only; High 10, 4:2:2 and 4:4:4 must be re-encoded.
  const copyVideo =
    video?.codec === 'h264' && ['yuv420p', 'yuvj420p'].includes(video.pixelFormat ?? '');
  const videoArgs = !video
    ? []
    : copyVideo
      ? ['-c:v', 'copy']
      : [
          ...['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '23', '-pix_fmt', 'yuv420p'],
          ...['-vf', `scale='trunc(min(${PROXY_MAX_WIDTH},iw)/2)*2':-2`],
        ];
  return {
    method: copyVideo || !video ? 'remux' : 'transcode',
    args: [
      ...head,
      ...maps,
      ...videoArgs,
      ...audioArgs,
      ...['-sn', '-dn', '-movflags', '+faststart', '-f', 'mp4', output],
    ],
  };
}

export class NoPlayableStreams extends Error {
  override readonly name = 'NoPlayableStreams';
  constructor() {
    super('ffmpeg found no video or audio in this file.');
  }
}
