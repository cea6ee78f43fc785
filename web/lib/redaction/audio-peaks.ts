// The loudness outline of a video's sound, for choosing audio ranges on a waveform. The sound is
// decoded a packet at a time with mediabunny and folded into a fixed number of peaks as it comes,
// so an hour of audio never sits in memory (web/lib/viewers/waveform.ts decodes a whole file and
// is only for modest ones).
import { ALL_FORMATS, AudioSampleSink, BlobSource, Input, UrlSource } from 'mediabunny';

/** The peak absolute sample of every time bucket, filled in chunk by chunk in any order. */
export class PeakReducer {
  readonly peaks: Float32Array;
  readonly #duration: number;

  /** @param duration Seconds the buckets cover, evenly, from 0. */
  constructor(duration: number, buckets: number) {
    this.peaks = new Float32Array(Math.max(0, Math.floor(buckets)));
    this.#duration = duration;
  }

  /**
   * Folds in a chunk of sound starting at `timestamp` seconds: one array per channel, `frames` long
   * (the arrays may be longer, as reused buffers are).
   */
  add(
    timestamp: number,
    sampleRate: number,
    channels: readonly Float32Array[],
    frames: number,
  ): void {
    const buckets = this.peaks.length;
    if (buckets === 0 || this.#duration <= 0 || frames <= 0) return;
    const perSecond = buckets / this.#duration;
    const startBucket = timestamp * perSecond;
    const bucketsPerFrame = perSecond / sampleRate;
    const peaks = this.peaks;
    for (const data of channels) {
      for (let i = 0; i < frames; i++) {
        const bucket = Math.floor(startBucket + i * bucketsPerFrame);
        if (bucket < 0 || bucket >= buckets) continue;
        const v = Math.abs(data[i]!);
        if (v > peaks[bucket]!) peaks[bucket] = v;
      }
    }
  }
}

export interface AudioOutline {
  /** Seconds of sound the peaks cover. */
  duration: number;
  peaks: Float32Array;
}

/**
 * The peaks of the file's sound in `buckets` buckets, or undefined when it has none. Throws when
 * the sound cannot be decoded here, and an AbortError when `signal` aborts.
 */
export async function decodePeaks(
  source: Blob | string,
  buckets: number,
  options: { signal?: AbortSignal; onProgress?: (done: number) => void } = {},
): Promise<AudioOutline | undefined> {
  const { signal, onProgress } = options;
  signal?.throwIfAborted();
  const input = new Input({
    source: typeof source === 'string' ? new UrlSource(source) : new BlobSource(source),
    formats: ALL_FORMATS,
  });
  try {
    const track = await input.getPrimaryAudioTrack();
    if (!track) return undefined;
    if (!(await track.canDecode()))
      throw new Error('This browser cannot decode the sound in this file.');
    const duration = await track.computeDuration();
    const reducer = new PeakReducer(duration, buckets);
    let planes: Float32Array[] = [];
    let lastReport = 0;
    for await (const sample of new AudioSampleSink(track).samples()) {
      try {
        signal?.throwIfAborted();
        const frames = sample.numberOfFrames;
        if (planes.length !== sample.numberOfChannels || planes[0]!.length < frames) {
          planes = Array.from({ length: sample.numberOfChannels }, () => new Float32Array(frames));
        }
        planes.forEach((plane, planeIndex) =>
          sample.copyTo(plane, { planeIndex, format: 'f32-planar', frameCount: frames }),
        );
        reducer.add(sample.timestamp, sample.sampleRate, planes, frames);
        const done = duration > 0 ? (sample.timestamp + sample.duration) / duration : 1;
        if (done - lastReport >= 0.01) {
          lastReport = done;
          onProgress?.(Math.min(1, done));
        }
      } finally {
        sample.close();
      }
    }
    signal?.throwIfAborted();
    onProgress?.(1);
    return { duration, peaks: reducer.peaks };
  } finally {
    input.dispose();
  }
}
