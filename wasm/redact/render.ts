// Renders a redacted copy of a video in the browser: mediabunny demuxes and decodes (WebCodecs),
// each frame's masks are painted straight into its pixels (raster.ts), and the frames are encoded
// to H.264 and muxed into an MP4 that streams out through positional writes — the source is read
// in slices and the output never sits whole in memory, so a 2 GB file redacts like a small one.
// Audio is copied untouched unless the recipe mutes, tones or removes it.
import { openInput } from './input.ts';
import {
  AudioSample,
  canEncodeAudio,
  Conversion,
  Mp4OutputFormat,
  Output,
  QUALITY_HIGH,
  StreamTarget,
  VideoSample,
  type StreamTargetChunk,
} from 'mediabunny';
import type { LiveAnalysis } from './analyse.ts';
import { applyAudioRanges, touchesRanges } from './audio-edit.ts';
import { masksAt, selectedTracks } from './geometry.ts';
import { estimator, RedactionCancelled, type RedactionProgress } from './progress.ts';
import { isFrameFormat, paintMasks, type FrameFormat } from './raster.ts';
import type { FaceAnalysis, FaceTrack, RedactionRecipe } from './recipe.ts';
import { decodableSource } from './source.ts';

/** Where the output goes: positional writes (the MP4's index is written last, at its start). */
export interface RedactionTarget {
  write(position: number, data: Uint8Array): Promise<void>;
}

export interface RenderOptions {
  source: Blob | string;
  /** The file's name, a hint for formats ffmpeg.wasm recognises by extension. */
  sourceName?: string;
  recipe: RedactionRecipe;
  /** A stored analysis: the recipe's selected tracks are masked. */
  analysis?: FaceAnalysis;
  /** Detection still running (automatic redaction): every track it finds is masked. */
  live?: LiveAnalysis;
  target: RedactionTarget;
  signal?: AbortSignal;
  onProgress?: (progress: RedactionProgress) => void;
  /** When the original was recorded (ISO 8601), stamped on the copy; else the copy says none. */
  recordedAt?: string;
}

export interface RenderResult {
  frames: number;
  /** Frames that had at least one mask painted. */
  maskedFrames: number;
  bytes: number;
  type: 'video/mp4';
}

/** Unix milliseconds of the MP4 epoch (1904-01-01), which MP4 files use to say "no time". */
const NO_TIME = -2_082_844_800_000;

/**
 * Makes the Output with the clock reading `time`: mediabunny stamps an MP4 with the time its muxer
 * is made (Date.now, in the Output's constructor, with no option to change it). A redacted copy
 * must not claim to have been recorded when it was rendered, and two renders of one recipe should
 * be the same file.
 */
function madeAt<T>(time: number, make: () => T): T {
  const now = Date.now;
  Date.now = () => time;
  try {
    return make();
  } finally {
    Date.now = now;
  }
}

export class RenderFailed extends Error {
  override name = 'RenderFailed';
}

export async function renderRedaction(options: RenderOptions): Promise<RenderResult> {
  const { recipe, live } = options;
  if (options.analysis && options.analysis.source !== recipe.source) {
    throw new RenderFailed('the face analysis is of another file than the recipe');
  }
  const fixedTracks = selectedTracks(options.analysis, recipe);
  const tracks = (): readonly FaceTrack[] => (live ? [...live.tracks.values()] : fixedTracks);
  const hold = live ? live.hold : (options.analysis?.hold ?? 0);

  let bytes = 0;
  const writable = new WritableStream<StreamTargetChunk>({
    async write(chunk) {
      await options.target.write(chunk.position, chunk.data);
      bytes = Math.max(bytes, chunk.position + chunk.data.byteLength);
    },
  });
  const converting = estimator('converting');
  const source = await decodableSource(options.source, {
    name: options.sourceName,
    signal: options.signal,
    onProgress: (fraction) => options.onProgress?.(converting(Math.round(fraction * 1000), 1000)),
  });
  if (options.signal?.aborted) throw new RedactionCancelled();
  const input = openInput(source);
  const recordedAt = options.recordedAt ? Date.parse(options.recordedAt) : NaN;
  const output = madeAt(
    Number.isNaN(recordedAt) ? NO_TIME : recordedAt,
    () =>
      new Output({
        format: new Mp4OutputFormat({ fastStart: false }),
        target: new StreamTarget(writable, { chunked: true, chunkSize: 8 * 1024 * 1024 }),
      }),
  );
  const stopIfCancelled = () => {
    if (options.signal?.aborted) throw new RedactionCancelled();
  };
  try {
    const video = await input.getPrimaryVideoTrack();
    if (!video) throw new RenderFailed('the file has no video track to redact');
    const total = (await video.computePacketStats()).packetCount;
    stopIfCancelled();
    const progress = estimator('rendering');
    let frames = 0;
    let maskedFrames = 0;
    let lastReport = 0;
    let buffer = new Uint8Array(0);
    const ranges = recipe.audio.ranges;
    // Edited audio is re-encoded as AAC, which every player and court system plays; Chromium on
    // Linux has no AAC encoder, so mediabunny's (FFmpeg's, in wasm, inside the app) steps in.
    if (ranges.length > 0 && !recipe.audio.removeTrack && !(await canEncodeAudio('aac'))) {
      const { registerAacEncoder } = await import('@mediabunny/aac-encoder');
      registerAacEncoder();
      stopIfCancelled();
    }

    const conversion = await Conversion.init({
      input,
      output,
      video: {
        forceTranscode: true,
        codec: 'avc',
        quality: QUALITY_HIGH,
        keyFrameInterval: 2,
        process: async (sample) => {
          const t = sample.timestamp;
          if (live) await live.reached(t);
          frames++;
          const now = performance.now();
          if (now - lastReport > 200) {
            lastReport = now;
            options.onProgress?.(progress(frames, total));
          }
          const masks = masksAt(recipe, tracks(), hold, t);
          if (masks.length === 0) return sample;
          maskedFrames++;
          const frame = sample.toVideoFrame();
          try {
            const { width, height } = frame.visibleRect ?? {
              width: frame.codedWidth,
              height: frame.codedHeight,
            };
            // Paint in the decoder's own format when it is one we know; else ask for RGBA.
            const format: FrameFormat = isFrameFormat(frame.format) ? frame.format : 'RGBA';
            const copyOptions: VideoFrameCopyToOptions =
              format === frame.format ? {} : { format: 'RGBA' };
            const size = frame.allocationSize(copyOptions);
            if (buffer.byteLength < size) buffer = new Uint8Array(size);
            const layout = await frame.copyTo(buffer, copyOptions);
            paintMasks({ format, width, height, data: buffer, layout }, masks, recipe.style);
            const painted = new VideoFrame(buffer.subarray(0, size), {
              format,
              codedWidth: width,
              codedHeight: height,
              timestamp: frame.timestamp,
              duration: frame.duration ?? undefined,
              layout,
              colorSpace: frame.colorSpace.toJSON(),
            });
            return new VideoSample(painted, {
              timestamp: sample.timestamp,
              duration: sample.duration,
            });
          } finally {
            frame.close();
          }
        },
      },
      audio: recipe.audio.removeTrack
        ? { discard: true }
        : ranges.length === 0
          ? {}
          : {
              forceTranscode: true,
              codec: 'aac',
              process: (sample) => {
                if (!touchesRanges(ranges, sample.timestamp, sample.duration)) return sample;
                const channels = sample.numberOfChannels;
                const planes = Array.from({ length: channels }, (_, planeIndex) => {
                  const plane = new Float32Array(sample.numberOfFrames);
                  sample.copyTo(plane, { planeIndex, format: 'f32-planar' });
                  return plane;
                });
                applyAudioRanges(planes, sample.sampleRate, sample.timestamp, ranges);
                const data = new Float32Array(channels * sample.numberOfFrames);
                planes.forEach((plane, i) => data.set(plane, i * sample.numberOfFrames));
                return new AudioSample({
                  data,
                  format: 'f32-planar',
                  numberOfChannels: channels,
                  sampleRate: sample.sampleRate,
                  timestamp: sample.timestamp,
                });
              },
            },
    });
    if (!conversion.isValid) {
      const reasons = conversion.discardedTracks
        .map((d) => `${d.track.type} track: ${d.reason}`)
        .join('; ');
      throw new RenderFailed(`this browser cannot render the redacted copy (${reasons})`);
    }
    const videoKept = !conversion.discardedTracks.some((d) => d.track.type === 'video');
    if (!videoKept) throw new RenderFailed('the video track cannot be re-encoded in this browser');
    const abort = () => void conversion.cancel();
    if (options.signal?.aborted) throw new RedactionCancelled();
    options.signal?.addEventListener('abort', abort, { once: true });
    try {
      await conversion.execute();
    } catch (error) {
      if (options.signal?.aborted) throw new RedactionCancelled();
      throw error;
    } finally {
      options.signal?.removeEventListener('abort', abort);
    }
    options.onProgress?.(progress(total, total));
    return { frames, maskedFrames, bytes, type: 'video/mp4' };
  } finally {
    input.dispose();
  }
}
